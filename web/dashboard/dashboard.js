// Exceed supervisor dashboard. Wire contract: proto/PROTOCOL.md.
import { Connection, api, explain, el, fmtDuration, connWords } from '../shared/conn.js';
import { drawChart } from './chart.js';

const SESSION_KEY = 'exceed.dashboard.session';
const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

let session = null;
let conn = null;
let connDetail = null;
let refreshTimer = null;
let lastMetrics = null;
const agentsSeen = new Map(); // agent id -> {name, active}

function toast(text, bad) {
  const t = el('div', { class: 'toast' + (bad ? ' bad' : ''), role: bad ? 'alert' : 'status', text });
  $('toasts').append(t);
  setTimeout(() => t.remove(), bad ? 7000 : 4000);
}

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
  } catch (ex) {
    showLogin(ex.code === 'unauthorized' ? 'Wrong username or password.' : explain(ex));
  } finally { btn.disabled = false; }
});

$('logout').addEventListener('click', () => signOut());
function signOut(message) {
  if (conn) conn.stop();
  conn = null;
  clearInterval(refreshTimer);
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
    onWelcome: () => { subscribeMetrics(); loadReview(); },
    onFrame,
    onState: (s, d) => { connDetail = d; renderConn(); if (s === 'unauthorized') signOut('Your session expired. Please sign in again.'); },
  });
  conn.start();
  refreshLists();
  refreshTimer = setInterval(refreshLists, REFRESH_MS);
}

function renderConn() {
  const s = conn ? conn.state : 'stopped';
  $('conn').dataset.state = s;
  $('conn').textContent = connWords(s, connDetail);
  $('retry').hidden = s !== 'reconnecting';
}
setInterval(() => { if (conn && conn.state === 'reconnecting') renderConn(); }, 1000);
$('retry').addEventListener('click', () => conn && conn.retryNow());

function onFrame(f) {
  if (f.type === 'metrics') renderMetrics(f);
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
      $('metrics-state').textContent = 'Live metrics failed: ' + explain(e);
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
  $('metrics-state').textContent = '';
  $('metrics-asof').textContent = 'Live · as of ' + new Date(toMs(m.as_of) ?? Date.now()).toLocaleTimeString();
  const win = windowWords(m.window_s);
  for (const tile of document.querySelectorAll('.tile')) {
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

function renderTeams(teams) {
  $('teams-empty').hidden = !!(teams && teams.length);
  if (teams && !teams.length) $('teams-empty').textContent = 'No teams yet.';
  $('teams').replaceChildren(...(teams || []).map((t) => el('tr', { dataset: { team: t.team } },
    el('th', { scope: 'row', text: t.team }),
    el('td', { class: 'num', text: num(t.queue_length) }),
    el('td', { class: 'num' + (t.longest_wait_s > 120 ? ' wait-long' : ''), text: fmtDuration(t.longest_wait_s) }),
    el('td', { class: 'num', text: num(t.agents_online) }),
    el('td', { class: 'num', text: num(t.agents_available) }),
    el('td', { class: 'num', text: num(t.active_conversations) }))));
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
    $('review').replaceChildren(...items.map(reviewItem));
    $('review-empty').hidden = items.length > 0;
    $('review-count').textContent = items.length ? String(items.length) : '';
  } catch (e) {
    if (isUnsupported(e)) { $('review-unavailable').hidden = false; $('review-empty').hidden = true; }
    else if (e.code !== 'disconnected') toast('Review list failed: ' + explain(e), true);
  }
}

function reviewItem(it) {
  const id = it.conversation_id;
  const note = el('input', { class: 'review-note', placeholder: 'What the team learns (optional)', maxlength: '2000', 'aria-label': `Review note for ${id}` });
  const mark = el('button', { type: 'submit', class: 'primary', text: 'Mark reviewed' });
  const form = el('form', { class: 'review-form' }, note, mark);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    mark.disabled = true;
    try {
      await api('/api/v1/reviews/' + encodeURIComponent(id), { token: session.token, method: 'POST', body: { note: note.value.trim() } });
      toast('Marked reviewed.');
      loadReview();
    } catch (ex) {
      mark.disabled = false;
      if (ex.code === 'not_found') { toast('Already reviewed or no longer on the list.'); loadReview(); } else toast('Not marked: ' + explain(ex), true);
    }
  });
  const meta = [it.team, it.agent ? 'agent ' + (it.agent.name || it.agent.id || it.agent) : null,
    it.resolved_at ? 'resolved ' + new Date(it.resolved_at).toLocaleString() : null,
    it.score != null ? 'score ' + Number(it.score).toFixed(1) : null].filter(Boolean).join(' · ');
  const reasons = it.reasons || [];
  const better = it.would_have_exceeded || [];
  const confidence = it.confidence || 'medium';
  return el('li', { class: 'review-item', dataset: { conversationId: id, confidence } },
    el('div', { class: 'review-head' },
      el('span', { class: 'tag level-' + it.level, text: it.level }), ' ',
      el('span', { class: 'tag confidence confidence-' + confidence, text: confidence + ' confidence',
        title: confidence === 'low' ? 'Nothing to go on: the customer said nothing after the answer and gave no feedback. A check-in follow-up asks them.' : '' }), ' ',
      el('code', { text: id }), ' ',
      el('span', { class: 'muted-inline', text: meta }),
      el('button', { type: 'button', class: 'transcript-btn', text: 'Transcript', 'aria-label': `Show the transcript of ${id}`, onclick: () => showTranscript(id) })),
    factsLine(it.facts),
    el('div', { class: 'review-cols' },
      el('div', {}, el('h3', { text: it.level === 'below' ? 'Why below' : 'Why only “met”' }),
        el('ul', { class: 'reasons' }, ...reasons.map(reasonItem)),
        reasons.length ? null : el('p', { class: 'empty', text: 'No reasons given.' })),
      el('div', {}, el('h3', { text: 'What would have exceeded' }),
        el('ul', { class: 'exceed' }, ...better.map((w) => el('li', { text: typeof w === 'string' ? w : w.text }))),
        better.length ? null : el('p', { class: 'empty', text: 'No suggestion.' }))),
    form);
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

async function showTranscript(id) {
  const dlg = $('transcript');
  $('transcript-title').textContent = 'Transcript · ' + id;
  const log = $('transcript-log');
  log.replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
  if (!dlg.open) dlg.showModal();
  try {
    const r = await api('/api/v1/conversations/' + encodeURIComponent(id) + '/messages?limit=200', { token: session.token });
    const items = r.items || [];
    log.replaceChildren(...items.map((m) => el('div', { class: 'tmsg ' + m.from.role, dataset: { seq: m.seq } },
      el('span', { class: 'who', text: (m.from.name || m.from.role) + ' · ' + new Date(m.ts).toLocaleTimeString() }),
      el('div', { class: 'text', text: m.text }))));
    if (!items.length) log.append(el('p', { class: 'empty', text: 'No messages.' }));
    if (r.next_cursor) log.append(el('p', { class: 'muted', text: 'Only the first 200 messages are shown.' }));
  } catch (e) {
    log.replaceChildren(el('p', { class: 'error', text: 'Could not load the transcript: ' + explain(e) }));
  }
}
$('transcript-close').addEventListener('click', () => $('transcript').close());

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
    $('refreshed').textContent = 'Updated ' + new Date().toLocaleTimeString();
  } catch (e) {
    if (e.code === 'unauthorized') { signOut('Your session expired. Please sign in again.'); return; }
    $('list-error').hidden = false;
    $('list-error').textContent = 'Could not load the live lists: ' + explain(e) + '. Retrying…';
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

function pickForAssign(id) {
  $('assign-conv').value = id;
  $('assign-agent').focus();
}

function renderQueue(list) {
  const tb = $('queue');
  tb.replaceChildren(...list.map((c) => {
    const wait = (now() - c.created_at) / 1000;
    return el('tr', { dataset: { conversationId: c.id } },
      el('td', { class: 'num' + (wait > 120 ? ' wait-long' : ''), text: fmtDuration(wait) }),
      el('td', {}, who(c), ' ', el('code', { text: c.id })),
      el('td', { text: c.team }),
      el('td', {}, el('span', { class: 'tag ' + c.priority, text: c.priority })),
      el('td', { text: stage(c) }),
      el('td', { text: c.status === 'offered' ? 'offered to an agent' : 'queued' }),
      el('td', {}, el('button', { type: 'button', text: 'Assign…', 'aria-label': `Assign ${who(c)}'s chat`, onclick: () => pickForAssign(c.id) })));
  }));
  $('queue-count').textContent = list.length ? String(list.length) : '';
  $('queue-empty').hidden = list.length > 0;
}

function renderActive(list) {
  for (const a of agentsSeen.values()) a.active = 0;
  for (const c of list) {
    if (!c.agent) continue;
    const a = agentsSeen.get(c.agent.id) || { name: c.agent.name, active: 0 };
    a.active++; a.name = c.agent.name;
    agentsSeen.set(c.agent.id, a);
  }
  const tb = $('active');
  tb.replaceChildren(...list.map((c) => {
    const rt = c.response_times || {};
    return el('tr', { dataset: { conversationId: c.id } },
      el('td', { class: 'num', text: c.assigned_at ? fmtDuration((now() - c.assigned_at) / 1000) : '—' }),
      el('td', {}, who(c), ' ', el('code', { text: c.id })),
      el('td', { text: c.team }),
      el('td', { text: c.agent ? c.agent.name : '—' }),
      el('td', { class: 'num', text: fmtDuration(rt.queue_wait_s) }),
      el('td', { class: 'num', text: rt.first_response_s == null ? 'not yet' : fmtDuration(rt.first_response_s) }),
      el('td', {}, el('button', { type: 'button', text: 'Reassign…', 'aria-label': `Reassign ${who(c)}'s chat`, onclick: () => pickForAssign(c.id) })));
  }));
  $('active-count').textContent = list.length ? String(list.length) : '';
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
  $('agents').replaceChildren(...rows.map((a) => el('tr', { dataset: { agentId: a.id, status: a.status || '' } },
    el('th', { scope: 'row' }, a.name || a.id, ' ', el('code', { text: a.id })),
    el('td', { text: a.teams && a.teams.length ? a.teams.join(', ') : '—' }),
    el('td', {}, a.status ? el('span', { class: 'status status-' + a.status, text: STATUS_WORDS[a.status] || a.status }) : '—'),
    el('td', { class: 'num', text: a.capacity != null ? `${num(a.active)} / ${a.capacity}` : num(a.active) }),
    el('td', { class: 'num', text: fmtDuration(a.fr) }),
    el('td', { class: 'num', text: pct(a.ex) }),
    el('td', { class: 'num', text: num(a.fo) }),
    el('td', { class: 'num' + (a.fd > 0 ? ' wait-long' : ''), text: num(a.fd) }))));
  $('agents-note').textContent = fromMetrics ? '“Today” counts from midnight, server time.'
    : 'Agents with active chats, from the live list. The status of idle agents arrives with live metrics.';
  $('agent-ids').replaceChildren(...rows.map((a) => el('option', { value: a.id, text: a.name || a.id })));
}

// ------------------------------------------------------------ force-assign
$('assign-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const res = $('assign-result');
  const conversation_id = $('assign-conv').value.trim();
  const agent_id = $('assign-agent').value.trim();
  res.className = '';
  res.textContent = 'Assigning…';
  try {
    const ack = await conn.request({ type: 'conversation.assign', conversation_id, agent_id });
    res.textContent = `Assigned ${ack.conversation_id} to ${ack.agent_id}.`;
    $('assign-conv').value = '';
    refreshLists();
  } catch (ex) {
    res.className = 'bad';
    const why = {
      not_found: 'no such conversation or agent',
      conflict: 'the agent is not online, has no free slot or already has it, or the chat is resolved',
    }[ex.code];
    res.textContent = 'Not assigned: ' + (why ? `${why} (${ex.message})` : explain(ex));
  }
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
    dl.replaceChildren(el('dt', { text: 'Not found' }), el('dd', { text: explain(ex) }));
  }
});

// -------------------------------------------------------------------- boot
try {
  const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY)) || {};
  if (saved.token && (!saved.expires_at || saved.expires_at > Date.now() + 30000)) { session = saved; startApp(); } else showLogin();
} catch { showLogin(); }
