// Exceed supervisor dashboard. Wire contract: proto/PROTOCOL.md.
// Accessibility (docs/ACCESSIBILITY.md): the tables, tiles and the review
// list refresh every few seconds, in place (rows keyed by id), so focus
// stays on a button and a screen reader keeps its place; nothing that
// refreshes is a live region. The force-assign picks a chat and an agent
// by name.
import { Connection, api, explain, el, fmtDuration, connWords, connCountdown } from '../shared/conn.js';
import { setText, syncChildren, Toaster, Picker } from '../shared/ui.js';
import { drawChart } from './chart.js';
import { VisitorList } from '../shared/visitors.js';
import { ReplyManager } from '../shared/replies.js';

const SESSION_KEY = 'exceed.dashboard.session';
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

let session = null;
let conn = null;
let connDetail = null;
let refreshTimer = null;
let directoryTimer = null;
let lastMetrics = null;
const agentsSeen = new Map(); // agent id -> {name, active}

const toaster = new Toaster($('toasts'));
toaster.onEmpty = () => $('tiles-h').focus();
// Information goes by itself after a while; errors stay until dismissed.
function toast(text, bad) { return toaster.show(text, { bad }); }

// "Not implemented on this server" comes as bad_request (unknown frame type /
// not available in this version): the feature is missing, not our request.
function isUnsupported(e) { return e && e.code === 'bad_request'; }

// ------------------------------------------------------------------- login
function showLogin(message) {
  $('app').hidden = true;
  $('login-view').hidden = false;
  $('login-error').hidden = !message;
  $('login-error').textContent = message || '';
  $('login-form').username.focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const btn = f.querySelector('button');
  btn.disabled = true;
  try {
    const s = await api('/api/v1/login', { method: 'POST', body: { username: f.username.value.trim(), password: f.password.value } });
    if (s.role !== 'supervisor') { showLogin('This account is an agent: use the agent console (/console/) instead.'); return; }
    session = s;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    f.password.value = '';
    startApp();
    // The login form is gone: focus goes to the top of the dashboard.
    $('tiles-h').focus();
  } catch (ex) {
    showLogin(ex.code === 'unauthorized' ? 'Wrong username or password. Check both and try again.'
      : ex.code === 'rate_limited' || ex.code === 'http_429' ? 'Too many sign-in attempts. Wait a few minutes, then try again.'
        : 'Could not sign in. ' + explain(ex) + '.');
  } finally { btn.disabled = false; }
});

$('logout').addEventListener('click', () => signOut());
function signOut(message) {
  if (conn) conn.stop();
  conn = null;
  clearInterval(refreshTimer);
  clearInterval(directoryTimer);
  $('toasts').replaceChildren();
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  showLogin(message);
}

// --------------------------------------------------------------------- app
function startApp() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('me').textContent = session.name || session.agent_id;
  conn = new Connection({
    token: session.token,
    onWelcome: () => { subscribeMetrics(); loadReview(); visitorList.start(); },
    onFrame,
    onState: (s, d) => { connDetail = d; renderConn(); if (s === 'unauthorized') signOut('Your session expired. Please sign in again.'); },
  });
  conn.start();
  refreshLists();
  loadDirectory();
  replyManager.load();
  refreshTimer = setInterval(refreshLists, REFRESH_MS);
  directoryTimer = setInterval(loadDirectory, 10000);
}

// The state is spoken once when it changes; the countdown ticks beside it.
function renderConn() {
  const s = conn ? conn.state : 'stopped';
  $('conn').dataset.state = s;
  setText($('conn'), connWords(s));
  setText($('conn-countdown'), connCountdown(s, connDetail));
  $('retry').hidden = s !== 'reconnecting';
}
setInterval(() => { if (conn && conn.state === 'reconnecting') renderConn(); }, 1000);
$('retry').addEventListener('click', () => conn && conn.retryNow());

function onFrame(f) {
  if (f.type === 'metrics') renderMetrics(f);
  if (f.type === 'visitors.update') visitorList.onUpdate(f);
  if (f.type === 'assessment') scheduleReview();
  // note events reach supervisors too; the dashboard does not show transcripts yet.
}

// ----------------------------------------------------------------- metrics
async function subscribeMetrics() {
  $('metrics-state').textContent = 'Subscribing to live metrics…';
  try {
    await conn.request({ type: 'metrics.subscribe' });
    $('metrics-unavailable').hidden = true;
    $('tiles').classList.remove('off');
    $('metrics-state').textContent = lastMetrics ? '' : 'Waiting for the first update…';
    $('metrics-state').dataset.state = 'live';
  } catch (e) {
    if (isUnsupported(e)) {
      $('metrics-unavailable').hidden = false;
      $('tiles').classList.add('off');
      $('metrics-state').textContent = '';
      $('metrics-state').dataset.state = 'unavailable';
    } else if (e.code !== 'disconnected') {
      $('metrics-state').textContent = 'Live figures are not coming in. ' + explain(e) + '.';
    }
  }
}

// "last hour", "last 15 min", "last 2 h": the rolling window of a figure.
export function windowWords(windowS) {
  if (!(windowS > 0)) return 'recent';
  if (windowS === 3600) return 'last hour';
  if (windowS % 3600 === 0) return `last ${windowS / 3600} h`;
  if (windowS >= 60) return `last ${Math.round(windowS / 60)} min`;
  return `last ${windowS} s`;
}
// A time from the server: RFC 3339 text or milliseconds since the epoch.
function toMs(v) {
  if (typeof v === 'number') return v;
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : null;
}
function pct(v) { return v == null ? '—' : Math.round(v * 100) + '%'; }
function num(v) { return v == null ? '—' : String(v); }

function renderMetrics(m) {
  const prev = lastMetrics;
  lastMetrics = m;
  // The queue and active lists are polled; a change in the live figures
  // refreshes them at once, so the page never shows both old and new.
  if (prev && (prev.queue_length !== m.queue_length || prev.active_conversations !== m.active_conversations)) refreshLists();
  // Who can take a chat changed: the force-assign picker learns it now.
  if (prev && (prev.agents_online !== m.agents_online || prev.agents_available !== m.agents_available)) loadDirectory();
  $('metrics-state').textContent = '';
  $('metrics-asof').textContent = 'Live · as of ' + new Date(toMs(m.as_of) ?? Date.now()).toLocaleTimeString();
  const win = windowWords(m.window_s);
  for (const tile of document.querySelectorAll('.tile:not([data-from="list"])')) {
    const v = m[tile.dataset.key];
    let s = '—';
    if (v != null) {
      if (tile.dataset.fmt === 'dur') s = fmtDuration(v);
      else if (tile.dataset.fmt === 'pct') s = pct(v);
      else s = String(v);
    }
    tile.querySelector('.v').textContent = s;
    tile.dataset.value = v == null ? '' : String(v);
    if (tile.hasAttribute('data-window')) {
      let w = win;
      if (tile.dataset.key === 'exceeded_rate' && m.assessed != null) w += ` · ${m.assessed} assessed`;
      if (v == null && tile.dataset.fmt === 'dur') w += ' · no data yet';
      tile.querySelector('.w').textContent = w;
    }
  }
  renderCharts(m.series);
  renderTeams(Array.isArray(m.teams) ? m.teams : null);
  renderAgents();
}

function renderCharts(series) {
  const ok = series && Array.isArray(series.queue_length) && series.queue_length.length > 0;
  $('charts').hidden = !ok;
  $('charts-empty').hidden = ok;
  $('charts-empty').textContent = series ? 'No points yet: the charts fill in minute by minute.' : 'The charts start with live metrics.';
  if (!ok) return;
  const end = toMs(series.end) ?? Date.now();
  const stepS = series.step_s || 60;
  drawChart($('chart-queue'), { values: series.queue_length, stepS, end, title: 'Customers waiting in the queue', integer: true,
    fmt: (v) => String(Math.round(v * 10) / 10) });
  drawChart($('chart-wait'), { values: series.longest_wait_s || [], stepS, end, title: 'Longest wait in the queue', seconds: true,
    fmt: (v) => fmtDuration(v).trim() });
}

// Per team, in place. "Waiting" and the longest wait come from the live
// queue list, like the queue table and the tiles (waiting and being
// offered), so all three agree; the rest comes with live metrics.
function renderTeams(teams) {
  $('teams-empty').hidden = !!(teams && teams.length);
  if (teams && !teams.length) $('teams-empty').textContent = 'No teams yet.';
  const waiting = waitingByTeam();
  syncChildren($('teams'), teams || [], {
    key: (t) => t.team,
    create: (t) => {
      const tr = el('tr', { dataset: { team: t.team } }, el('th', { scope: 'row', text: t.team }),
        ...[0, 1, 2, 3, 4].map(() => el('td', { class: 'num' })));
      fillTeam(tr, t, waiting);
      return tr;
    },
    update: (tr, t) => fillTeam(tr, t, waiting),
  });
}
function fillTeam(tr, t, waiting) {
  const w = waiting ? waiting.get(t.team) || { n: 0, longest: null } : { n: t.queue_length, longest: t.longest_wait_s };
  const cells = tr.querySelectorAll('td');
  setText(cells[0], num(w.n));
  setText(cells[1], fmtDuration(w.longest));
  cells[1].classList.toggle('wait-long', w.longest > 120);
  setText(cells[2], num(t.agents_online));
  setText(cells[3], num(t.agents_available));
  setText(cells[4], num(t.active_conversations));
}

// ------------------------------------------------------------------ review
// review.list: conversations assessed "met", with why and what would have
// exceeded; a supervisor reads the transcript and marks each reviewed.
$('review-refresh').addEventListener('click', loadReview);
let reviewSeq = 0;
async function loadReview() {
  if (!conn) return;
  const mine = ++reviewSeq;
  try {
    const ack = await conn.request({ type: 'review.list' });
    if (mine !== reviewSeq) return;
    $('review-unavailable').hidden = true;
    const items = ack.items || [];
    // In place: a note being typed, and focus, survive a refresh.
    syncChildren($('review'), items, {
      key: (it) => it.conversation_id,
      create: reviewItem,
      update: (li, it) => {
        const sig = JSON.stringify(it);
        if (li.dataset.sig === sig) return;
        li.dataset.sig = sig;
        li.replaceChildren(...reviewBody(it), li.querySelector('form'));
      },
    });
    $('review-empty').hidden = items.length > 0;
    setText($('review-count'), items.length ? String(items.length) : '');
  } catch (e) {
    if (isUnsupported(e)) { $('review-unavailable').hidden = false; $('review-empty').hidden = true; }
    else if (e.code !== 'disconnected') toast('The review list could not be loaded. ' + explain(e) + '.', true);
  }
}

function reviewItem(it) {
  const id = it.conversation_id;
  const note = el('input', { class: 'review-note', placeholder: 'What the team learns (optional)', maxlength: '2000', 'aria-label': 'What the team learns from this chat (optional)' });
  const mark = el('button', { type: 'submit', class: 'primary', text: 'Mark reviewed' });
  const form = el('form', { class: 'review-form' }, note, mark);
  const li = el('li', { class: 'review-item', dataset: { conversationId: id, confidence: it.confidence || 'medium', sig: JSON.stringify(it) } },
    ...reviewBody(it), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    mark.disabled = true;
    const next = li.nextElementSibling || li.previousElementSibling;
    const done = async (words) => {
      toast(words);
      await loadReview();
      // The item is gone: focus goes to the next one, or the list's heading.
      if (!li.isConnected) {
        const to = next && next.isConnected && next.querySelector('.review-note');
        if (to) to.focus(); else { $('review-h').tabIndex = -1; $('review-h').focus(); }
      }
    };
    try {
      await api('/api/v1/reviews/' + encodeURIComponent(id), { token: session.token, method: 'POST', body: { note: note.value.trim() } });
      await done('Marked reviewed.');
    } catch (ex) {
      mark.disabled = false;
      if (ex.code === 'not_found') await done('That chat was already reviewed, or is no longer on the list.');
      else { toast('Not marked reviewed. ' + explain(ex) + '.', true); mark.focus(); }
    }
  });
  return li;
}

// What a review item says: level, confidence, who and when, the facts, the
// reasons and what would have exceeded.
function reviewBody(it) {
  const id = it.conversation_id;
  const meta = [it.team, it.agent ? 'agent ' + (it.agent.name || it.agent.id || it.agent) : null,
    it.resolved_at ? 'resolved ' + new Date(it.resolved_at).toLocaleString() : null,
    it.score != null ? 'score ' + Number(it.score).toFixed(1) : null].filter(Boolean).join(' · ');
  const reasons = it.reasons || [];
  const better = it.would_have_exceeded || [];
  const confidence = it.confidence || 'medium';
  return [
    el('div', { class: 'review-head' },
      el('span', { class: 'tag level-' + it.level, text: it.level }), ' ',
      el('span', { class: 'tag confidence confidence-' + confidence, text: confidence + ' confidence',
        title: confidence === 'low' ? 'Nothing to go on: the customer said nothing after the answer and gave no feedback. A check-in follow-up asks them.' : '' }), ' ',
      el('code', { text: id }), ' ',
      el('span', { class: 'muted-inline', text: meta }),
      el('button', { type: 'button', class: 'transcript-btn', text: 'Transcript', 'aria-label': `Show the transcript of this chat (${[it.team, it.agent && (it.agent.name || it.agent)].filter(Boolean).join(', ')})`, onclick: (e) => showTranscript(id, e.currentTarget) })),
    factsLine(it.facts),
    el('div', { class: 'review-cols' },
      el('div', {}, el('h3', { text: it.level === 'below' ? 'Why below' : 'Why only “met”' }),
        el('ul', { class: 'reasons' }, ...reasons.map(reasonItem)),
        reasons.length ? null : el('p', { class: 'empty', text: 'No reasons given.' })),
      el('div', {}, el('h3', { text: 'What would have exceeded' }),
        el('ul', { class: 'exceed' }, ...better.map((w) => el('li', { text: typeof w === 'string' ? w : w.text }))),
        better.length ? null : el('p', { class: 'empty', text: 'No suggestion.' }))),
  ].filter(Boolean);
}

// A reason, with the words it rests on set apart as a quote.
function reasonItem(r) {
  const li = el('li', { dataset: { code: r.code } });
  const text = r.text || `${r.code}: ${r.value}`;
  const at = r.evidence ? text.lastIndexOf('"' + r.evidence + '"') : -1;
  if (at < 0) { li.textContent = text; return li; }
  li.append(text.slice(0, at), el('q', { class: 'evidence', text: r.evidence }), text.slice(at + r.evidence.length + 2));
  return li;
}

// Outcome facts people gave: the customer's tap, the agent's record and extra.
function factsLine(f) {
  if (!f) return null;
  const parts = [];
  if (f.customer_solved != null) parts.push(el('span', { class: 'fact solved-' + f.customer_solved, text: 'Customer: ' + (f.customer_solved ? 'solved' : 'not really solved') }));
  if (f.outcome) parts.push(el('span', { class: 'fact outcome', text: 'Agent: ' + f.outcome.replace('_', ' ') }));
  if (f.went_beyond) parts.push(el('span', { class: 'fact beyond', text: 'Went beyond: ' + f.went_beyond }));
  if (!parts.length) parts.push(el('span', { class: 'fact none', text: 'No outcome recorded' }));
  return el('p', { class: 'facts' }, ...parts);
}

// The transcript in a modal dialog: focus on its title while open, back on
// the button that opened it when it closes (Close or Escape).
let transcriptOpener = null;
async function showTranscript(id, opener) {
  const dlg = $('transcript');
  $('transcript-title').textContent = 'Transcript · ' + id;
  const log = $('transcript-log');
  log.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
  transcriptOpener = opener || document.activeElement;
  if (!dlg.open) dlg.showModal();
  $('transcript-title').focus();
  try {
    const r = await api('/api/v1/conversations/' + encodeURIComponent(id) + '/messages?limit=200', { token: session.token });
    const items = r.items || [];
    log.replaceChildren(...items.map((m) => el('div', { class: 'tmsg ' + m.from.role, dataset: { seq: m.seq } },
      el('span', { class: 'who', text: (m.from.name || m.from.role) + ' · ' + new Date(m.ts).toLocaleTimeString() }),
      el('div', { class: 'text', text: m.text }))));
    if (!items.length) log.append(el('p', { class: 'empty', text: 'No messages.' }));
    if (r.next_cursor) log.append(el('p', { class: 'muted', text: 'Only the first 200 messages are shown.' }));
  } catch (e) {
    log.replaceChildren(el('p', { class: 'error', text: 'The transcript could not be loaded. ' + explain(e) + '.' }));
  }
}
$('transcript-close').addEventListener('click', () => $('transcript').close());
$('transcript').addEventListener('close', () => {
  if (transcriptOpener && transcriptOpener.isConnected) transcriptOpener.focus();
  else { $('review-h').tabIndex = -1; $('review-h').focus(); }
  transcriptOpener = null;
});

let reviewTimer = null;
function scheduleReview() {
  clearTimeout(reviewTimer);
  reviewTimer = setTimeout(loadReview, 300);
}

// ----------------------------------------------------------- queue/active
$('refresh').addEventListener('click', refreshLists);
let refreshing = false;
async function refreshLists() {
  if (refreshing || !session) return;
  refreshing = true;
  try {
    const [queued, offered, active] = await Promise.all(['queued', 'offered', 'active'].map((s) => listAll(s)));
    $('list-error').hidden = true;
    renderQueue([...queued, ...offered].sort((a, b) => a.created_at - b.created_at));
    renderActive(active);
    renderAssignChoices();
    // Shown, not spoken: it changes every few seconds.
    setText($('refreshed'), 'Updated ' + new Date().toLocaleTimeString());
  } catch (e) {
    if (e.code === 'unauthorized') { signOut('Your session expired. Please sign in again.'); return; }
    $('list-error').hidden = false;
    setText($('list-error'), 'The live lists could not be loaded. ' + explain(e) + '. Trying again every few seconds.');
  } finally { refreshing = false; }
}

async function listAll(status) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const q = new URLSearchParams({ status, limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const r = await api('/api/v1/conversations?' + q, { token: session.token });
    items.push(...r.items);
    cursor = r.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function now() { return Date.now() + (conn && conn.serverSkew ? conn.serverSkew : 0); }
function stage(c) { const s = c.context && c.context.stage; return s ? s.replace('_', '-') : '—'; }
function who(c) { return (c.visitor && c.visitor.name) || 'Visitor'; }

// "Assign…" on a row: that chat in the form, and focus on finding the agent.
function pickForAssign(id) {
  $('assign-conv').value = id;
  loadDirectory();
  assignPicker.search.focus();
  assignPicker.search.scrollIntoView({ block: 'nearest' });
}

let queueList = null; // the live queue, once loaded
let activeList = [];

// A row per chat, kept in place; its cells are brought up to date.
function syncRows(tbody, list, cells, action) {
  syncChildren(tbody, list, {
    key: (c) => c.id,
    create: (c) => {
      const btn = el('button', { type: 'button', text: action, onclick: () => pickForAssign(c.id) });
      const tr = el('tr', { dataset: { conversationId: c.id } },
        ...cells(c).map(() => el('td')), el('td', {}, btn));
      fillRow(tr, c, cells);
      return tr;
    },
    update: (tr, c) => fillRow(tr, c, cells),
  });
  function fillRow(tr, c, cellsOf) {
    const tds = tr.querySelectorAll('td');
    cellsOf(c).forEach((cell, i) => {
      if (tds[i].className !== (cell.cls || '')) tds[i].className = cell.cls || '';
      if (cell.node) { if (tds[i].dataset.sig !== cell.sig) { tds[i].replaceChildren(cell.node()); tds[i].dataset.sig = cell.sig; } }
      else setText(tds[i], cell.text);
    });
    tr.querySelector('button').setAttribute('aria-label', `${action.replace('…', '')} ${who(c)}’s chat`);
  }
}

function renderQueue(list) {
  queueList = list;
  syncRows($('queue'), list, (c) => {
    const wait = (now() - c.created_at) / 1000;
    return [
      { cls: 'num' + (wait > 120 ? ' wait-long' : ''), text: fmtDuration(wait) },
      { cls: 'customer', sig: who(c) + c.id, node: () => el('span', {}, who(c), ' ', el('code', { text: c.id })) },
      { text: c.team },
      { sig: c.priority, node: () => el('span', { class: 'tag ' + c.priority, text: c.priority }) },
      { text: stage(c) },
      { text: c.status === 'offered' ? 'being offered to an agent' : 'waiting' },
    ];
  }, 'Assign…');
  setText($('queue-count'), list.length ? String(list.length) : '');
  $('queue-empty').hidden = list.length > 0;
  // The tiles count what the table lists: waiting and being offered.
  let longest = null;
  let offered = 0;
  for (const c of list) {
    const wait = (now() - c.created_at) / 1000;
    if (longest == null || wait > longest) longest = wait;
    if (c.status === 'offered') offered++;
  }
  listTile('queue_length', String(list.length), list.length, offered ? `now · ${offered} being offered` : 'now');
  listTile('longest_wait_s', longest == null ? '—' : fmtDuration(longest), longest == null ? '' : Math.round(longest), 'now');
  if (lastMetrics) renderTeams(Array.isArray(lastMetrics.teams) ? lastMetrics.teams : null);
}

function listTile(key, shown, value, window) {
  const tile = document.querySelector(`.tile[data-key="${key}"]`);
  setText(tile.querySelector('.v'), shown);
  tile.dataset.value = String(value);
  setText(tile.querySelector('.w'), window);
}

// Per team from the queue list: how many wait and the longest wait.
function waitingByTeam() {
  if (!queueList) return null;
  const out = new Map();
  for (const c of queueList) {
    const w = out.get(c.team) || { n: 0, longest: null };
    const wait = (now() - c.created_at) / 1000;
    w.n++;
    if (w.longest == null || wait > w.longest) w.longest = wait;
    out.set(c.team, w);
  }
  return out;
}

function renderActive(list) {
  activeList = list;
  for (const a of agentsSeen.values()) a.active = 0;
  for (const c of list) {
    if (!c.agent) continue;
    const a = agentsSeen.get(c.agent.id) || { name: c.agent.name, active: 0 };
    a.active++; a.name = c.agent.name;
    agentsSeen.set(c.agent.id, a);
  }
  syncRows($('active'), list, (c) => {
    const rt = c.response_times || {};
    return [
      { cls: 'num', text: c.assigned_at ? fmtDuration((now() - c.assigned_at) / 1000) : '—' },
      { cls: 'customer', sig: who(c) + c.id, node: () => el('span', {}, who(c), ' ', el('code', { text: c.id })) },
      { text: c.team },
      { text: c.agent ? c.agent.name : '—' },
      { cls: 'num', text: fmtDuration(rt.queue_wait_s) },
      { cls: 'num', text: rt.first_response_s == null ? 'not yet' : fmtDuration(rt.first_response_s) },
    ];
  }, 'Reassign…');
  setText($('active-count'), list.length ? String(list.length) : '');
  $('active-empty').hidden = list.length > 0;
  renderAgents();
}

const STATUS_WORDS = { online: 'Online', away: 'Away', offline: 'Offline' };
function renderAgents() {
  const fromMetrics = lastMetrics && Array.isArray(lastMetrics.agents);
  let rows;
  if (fromMetrics) {
    // Everyone the server knows, busiest first, then by name.
    rows = lastMetrics.agents.map((a) => ({ id: a.agent_id, name: a.name, teams: a.teams, status: a.status, active: a.active,
      capacity: a.capacity, fr: a.first_response_p50_today_s, ex: a.exceeded_rate_today, fo: a.followups_open, fd: a.followups_overdue }));
    const order = { online: 0, away: 1, offline: 2 };
    rows.sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3) || (b.active || 0) - (a.active || 0) || String(a.name).localeCompare(String(b.name)));
  } else {
    rows = [...agentsSeen.entries()].map(([id, a]) => ({ id, name: a.name, active: a.active })).sort((a, b) => b.active - a.active);
  }
  syncChildren($('agents'), rows, {
    key: (a) => a.id,
    create: (a) => {
      const tr = el('tr', { dataset: { agentId: a.id } }, el('th', { scope: 'row' }), el('td'), el('td'),
        ...[0, 1, 2, 3, 4].map(() => el('td', { class: 'num' })));
      fillAgent(tr, a);
      return tr;
    },
    update: fillAgent,
  });
  setText($('agents-note'), fromMetrics ? '“Today” counts from midnight, server time.'
    : 'Agents with active chats, from the live list. The status of idle agents arrives with live metrics.');
}
function fillAgent(tr, a) {
  tr.dataset.status = a.status || '';
  const th = tr.querySelector('th');
  if (th.dataset.sig !== a.name + a.id) { th.replaceChildren(a.name || a.id, ' ', el('code', { text: a.id })); th.dataset.sig = a.name + a.id; }
  const td = tr.querySelectorAll('td');
  setText(td[0], a.teams && a.teams.length ? a.teams.join(', ') : '—');
  if (td[1].dataset.sig !== (a.status || '')) {
    td[1].replaceChildren(a.status ? el('span', { class: 'status status-' + a.status, text: STATUS_WORDS[a.status] || a.status }) : '—');
    td[1].dataset.sig = a.status || '';
  }
  setText(td[2], a.capacity != null ? `${num(a.active)} / ${a.capacity}` : num(a.active));
  setText(td[3], fmtDuration(a.fr));
  setText(td[4], pct(a.ex));
  setText(td[5], num(a.fo));
  setText(td[6], num(a.fd));
  td[6].classList.toggle('wait-long', a.fd > 0);
}

// ------------------------------------------------ visitors and saved replies
const visitorList = new VisitorList($('visitors'), { conn: () => conn, toast: (t, bad) => toast(t, bad), label: 'Visitors on the site' });
const replyManager = new ReplyManager($('replies'), { token: () => session.token, scope: 'team', toast: (t, bad) => toast(t, bad) });

// ------------------------------------------------------------ force-assign
// The chat from the live lists, the agent from the directory, both by name.
const assignPicker = new Picker($('assign-picker'), {
  name: 'assign-agent', searchLabel: 'Find an agent', groups: [{ key: 'agent', label: 'Agents' }],
  noneText: 'No agent matches. Try another name.',
});

async function loadDirectory() {
  if (!session) return;
  try {
    const d = await api('/api/v1/directory', { token: session.token });
    replyManager.setTeams((d.teams || []).map((t) => t.name));
    assignPicker.update((d.agents || []).map((a) => ({
      value: a.id, group: 'agent', label: a.name, keywords: (a.teams || []).join(' '),
      detail: `${(STATUS_WORDS[a.status] || a.status).toLowerCase()}, ${a.active} of ${a.capacity} chats` + (a.teams && a.teams.length ? ` · ${a.teams.join(', ')}` : ''),
      disabled: !a.available,
    })));
  } catch (e) {
    if (e.code === 'unauthorized') signOut('Your session expired. Please sign in again.');
  }
}

function renderAssignChoices() {
  const option = (c, words) => ({ c, words });
  const fill = (group, list, words) => syncChildren(group, list.map((c) => option(c, words(c))), {
    key: (o) => o.c.id,
    create: (o) => el('option', { value: o.c.id, text: o.words }),
    update: (node, o) => setText(node, o.words),
  });
  const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  fill($('assign-waiting'), queueList || [], (c) => `${who(c)} · ${c.team} · waiting since ${clock(c.created_at)}`);
  fill($('assign-active'), activeList, (c) => `${who(c)} · ${c.team} · with ${c.agent ? c.agent.name : 'nobody'}`);
}

$('assign-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = $('assign-result');
  const conversation_id = $('assign-conv').value;
  const agent_id = assignPicker.value();
  res.className = 'bad';
  if (!conversation_id) { setText(res, 'Choose the chat to assign first.'); $('assign-conv').focus(); return; }
  if (!agent_id) { setText(res, 'Choose an agent who is online with a free slot.'); assignPicker.search.focus(); return; }
  const chatWords = $('assign-conv').selectedOptions[0].textContent.split(' · ')[0];
  const agentWords = $('assign-picker').querySelector(`input[value="${CSS.escape(agent_id)}"]`).closest('label').querySelector('.picker-name').textContent;
  res.className = '';
  setText(res, 'Assigning…');
  $('assign-go').disabled = true;
  try {
    await conn.request({ type: 'conversation.assign', conversation_id, agent_id });
    setText(res, `${chatWords}’s chat is now with ${agentWords}.`);
    $('assign-conv').value = '';
    assignPicker.clear();
    refreshLists();
    loadDirectory();
  } catch (ex) {
    res.className = 'bad';
    const why = {
      not_found: 'that chat or agent no longer exists. Refresh and choose again.',
      conflict: `${agentWords} is not online, has no free slot or has this chat already, or the chat has ended. Choose someone else.`,
    }[ex.code];
    setText(res, 'Not assigned: ' + (why || explain(ex) + '.'));
    loadDirectory();
  } finally { $('assign-go').disabled = false; }
});

// ------------------------------------------------------------------ lookup
$('lookup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const dl = $('lookup');
  const id = $('lookup-id').value.trim();
  dl.replaceChildren(el('dt', { text: 'Looking up…' }), el('dd'));
  try {
    const c = await api('/api/v1/conversations/' + encodeURIComponent(id), { token: session.token });
    const rt = c.response_times || {};
    const rows = [
      ['Status', c.status], ['Customer', `${who(c)} (${c.visitor.id})`], ['Team', c.team], ['Priority', c.priority],
      ['Stage', stage(c)], ['Agent', c.agent ? `${c.agent.name} (${c.agent.id})` : '—'],
      ['Created', new Date(c.created_at).toLocaleString()], ['Messages', String(c.last_seq)],
      ['Queue wait', fmtDuration(rt.queue_wait_s)], ['First response', fmtDuration(rt.first_response_s)],
      ['Customer’s verdict', c.csat ? `${c.csat.rating}/5 · needs ${c.csat.expectation}${c.csat.comment ? ' · “' + c.csat.comment + '”' : ''}` : 'not given'],
    ];
    if (c.assessment) rows.push(['Assessment', `${c.assessment.level} (${c.assessment.score})`]);
    dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
  } catch (ex) {
    dl.replaceChildren(el('dt', { text: 'Not found' }), el('dd', { text: ex.code === 'not_found' ? 'No chat has that id, or you cannot see it. Check the id and try again.' : explain(ex) + '.' }));
  }
});

// -------------------------------------------------------------------- boot
try {
  const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY)) || {};
  if (saved.token && (!saved.expires_at || saved.expires_at > Date.now() + 30000)) { session = saved; startApp(); } else showLogin();
} catch { showLogin(); }
