// Exceed agent console. Wire contract: proto/PROTOCOL.md.
import { Connection, api, explain, uuid, el, fmtTime, connWords } from '../shared/conn.js';

const SESSION_KEY = 'exceed.console.session';
const PREFS_KEY = 'exceed.console.prefs';
const TYPING_EVERY_MS = 3000;
const TYPING_SHOW_MS = 10000;
const $ = (id) => document.getElementById(id);

let session = null;       // {token, role, agent_id, name, expires_at}
let conn = null;
const prefs = Object.assign({ status: 'offline', capacity: null, sound: false }, readJSON(localStorage, PREFS_KEY));
const offers = new Map(); // conversation_id -> offer {…, deadline, node}
const chats = new Map();  // conversation_id -> chat
let selected = null;
let connDetail = null;

function readJSON(store, key) { try { return JSON.parse(store.getItem(key)) || {}; } catch { return {}; } }
function savePrefs() { try { localStorage.setItem(PREFS_KEY, JSON.stringify(prefs)); } catch { /* ignore */ } }

function toast(text, bad) {
  const t = el('div', { class: 'toast' + (bad ? ' bad' : ''), role: bad ? 'alert' : 'status', text });
  $('toasts').append(t);
  setTimeout(() => t.remove(), bad ? 7000 : 4000);
}

// ------------------------------------------------------------------- login
function showLogin(message) {
  $('app').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  document.title = 'Exceed · Agent console';
  $('login-form').username.focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const btn = f.querySelector('button');
  btn.disabled = true;
  $('login-error').hidden = true;
  try {
    const s = await api('/api/v1/login', { method: 'POST', body: { username: f.username.value.trim(), password: f.password.value } });
    if (s.role !== 'agent') {
      showLogin('This account is a supervisor: use the supervisor dashboard (/dashboard/) instead.');
      return;
    }
    session = s;
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
    f.password.value = '';
    startApp();
  } catch (ex) {
    showLogin(ex.code === 'unauthorized' ? 'Wrong username or password.' : explain(ex));
  } finally {
    btn.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  if (conn && conn.state === 'online') {
    try { await conn.request({ type: 'agent.status', status: 'offline' }); } catch { /* signing out anyway */ }
  }
  signOut();
});

function signOut(message) {
  if (conn) conn.stop();
  conn = null;
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  offers.clear(); chats.clear(); selected = null;
  $('offers').replaceChildren(); $('chats').replaceChildren();
  showLogin(message);
}

// --------------------------------------------------------------- app start
function startApp() {
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('me').textContent = session.name || session.agent_id;
  $('status').value = prefs.status;
  $('capacity').value = prefs.capacity || '';
  $('sound').checked = !!prefs.sound;
  renderLists();
  conn = new Connection({
    token: session.token,
    hello: () => {
      // Resume every open chat from the last seq we hold.
      const resume = [];
      for (const c of chats.values()) if (c.open && c.loaded) resume.push({ conversation_id: c.id, after_seq: c.lastSeq });
      return resume.length ? { resume: resume.slice(0, 100) } : {};
    },
    onWelcome,
    onFrame,
    onState: (s, d) => { connDetail = d; renderConn(); if (s === 'unauthorized') signOut('Your session expired. Please sign in again.'); },
  });
  conn.start();
}

function renderConn() {
  const s = conn ? conn.state : 'stopped';
  $('conn').dataset.state = s;
  $('conn').textContent = connWords(s, connDetail);
  $('retry').hidden = s !== 'reconnecting';
  $('composer').querySelector('#send').disabled = false;
}
setInterval(() => { if (conn && conn.state === 'reconnecting') renderConn(); }, 1000);
$('retry').addEventListener('click', () => conn && conn.retryNow());

async function onWelcome(w) {
  $('me').textContent = w.name || session.name;
  // The status belongs to the agent; a console states it right after welcome.
  applyStatus(false);
  for (const c of w.conversations || []) {
    let chat = chats.get(c.conversation_id);
    if (!chat) chat = addChat(c.conversation_id, { team: c.team });
    chat.open = true;
    chat.status = c.status;
  }
  // Chats we held that the server no longer lists were resolved or moved away while we were gone.
  const listed = new Set((w.conversations || []).map((c) => c.conversation_id));
  for (const chat of chats.values()) {
    if (chat.open && !listed.has(chat.id)) { chat.open = false; chat.closedReason = 'no longer assigned to you'; }
  }
  for (const chat of chats.values()) {
    if (!chat.loaded && chat.open) loadHistory(chat);
    flushOutbox(chat);
  }
  renderLists();
  if (selected) renderChat();
  loadFollowups();
  if (view === 'tickets') loadTickets();
}

async function applyStatus(announce) {
  const frame = { type: 'agent.status', status: prefs.status };
  if (prefs.capacity) frame.capacity = prefs.capacity;
  try {
    const ack = await conn.request(frame);
    $('status').value = ack.status;
    $('capacity').value = ack.capacity;
    if (announce) toast(`You are ${ack.status} (up to ${ack.capacity} chats).`);
  } catch (e) {
    if (e.code !== 'disconnected') toast('Status not changed: ' + explain(e), true);
  }
}
$('status').addEventListener('change', () => { prefs.status = $('status').value; savePrefs(); applyStatus(true); });
$('capacity').addEventListener('change', () => {
  const n = Number($('capacity').value);
  if (!Number.isInteger(n) || n < 1 || n > 50) { toast('Capacity must be a whole number from 1 to 50.', true); return; }
  prefs.capacity = n; savePrefs(); applyStatus(true);
});
$('sound').addEventListener('change', () => { prefs.sound = $('sound').checked; savePrefs(); if (prefs.sound) beep(); });

// ------------------------------------------------------------------ frames
function onFrame(f) {
  switch (f.type) {
    case 'conversation.offer': addOffer(f); break;
    case 'conversation.offer_expired': removeOffer(f.conversation_id, 'The offer expired or was taken elsewhere.'); break;
    case 'conversation.assigned': {
      removeOffer(f.conversation_id);
      let chat = chats.get(f.conversation_id);
      const isNew = !chat;
      if (!chat) chat = addChat(f.conversation_id, { team: f.team });
      chat.team = f.team;
      chat.open = true;
      chat.status = 'active';
      chat.closedReason = null;
      if (!chat.loaded) loadHistory(chat);
      if (isNew && !selected) select(chat.id);
      renderLists();
      if (chat.id === selected) renderChat();
      break;
    }
    case 'conversation.unassigned': {
      const chat = chats.get(f.conversation_id);
      if (!chat) break;
      chat.open = false;
      chat.closedReason = { transferred: 'transferred', requeued: 'returned to the queue (you were away too long)', reassigned: 'reassigned by a supervisor' }[f.reason] || f.reason;
      toast(`Chat with ${chat.visitorName()} was ${chat.closedReason}.`);
      renderLists();
      if (chat.id === selected) renderChat();
      break;
    }
    case 'conversation.resolved': {
      const chat = chats.get(f.conversation_id);
      if (!chat) break;
      chat.open = false;
      chat.status = 'resolved';
      chat.closedReason = 'resolved';
      chat.typing = null;
      renderLists();
      if (chat.id === selected) renderChat();
      break;
    }
    case 'message': {
      const chat = chats.get(f.conversation_id);
      if (!chat) break;
      const { type, ...m } = f;
      if (chat.loaded && m.seq > chat.lastSeq + 1) fillGap(chat);
      addMessage(chat, m);
      break;
    }
    case 'note': {
      const chat = chats.get(f.conversation_id);
      if (!chat) break;
      if (!chat.notes.some((n) => n.note_id === f.note_id)) {
        chat.notes.push(f);
        if (chat.id === selected) renderLog();
      }
      break;
    }
    case 'typing': {
      const chat = chats.get(f.conversation_id);
      if (!chat || !f.from || f.from.role !== 'customer') break;
      clearTimeout(chat.typingTimer);
      chat.typing = f.state ? (f.from.name || 'The customer') : null;
      if (f.state) chat.typingTimer = setTimeout(() => { chat.typing = null; if (chat.id === selected) renderTyping(); }, TYPING_SHOW_MS);
      if (chat.id === selected) renderTyping();
      break;
    }
    case 'read': {
      const chat = chats.get(f.conversation_id);
      if (!chat || !f.from || f.from.role !== 'customer') break;
      if (f.seq > chat.customerRead) { chat.customerRead = f.seq; if (chat.id === selected) renderLog(); }
      break;
    }
    case 'followup.due': onFollowupDue(f); break;
    case 'sla.warning': onSlaWarning(f); break;
    case 'ticket.created': case 'ticket.assigned': case 'ticket.updated': case 'ticket.commented':
      onTicketEvent(f);
      break;
    case 'error':
      // Errors without a request id (e.g. a resume entry we may no longer see).
      if (f.code === 'not_found' || f.code === 'forbidden') break;
      toast(explain(f), true);
      break;
    default: break; // unknown events are ignored (forward compatible)
  }
}

// ------------------------------------------------------------------ offers
function addOffer(f) {
  const existing = offers.get(f.conversation_id);
  const offer = Object.assign(existing || {}, f, { deadline: Date.now() + f.expires_in_s * 1000, total: existing ? existing.total : f.expires_in_s });
  offers.set(f.conversation_id, offer);
  if (!existing && prefs.sound) beep(); // the card itself is announced (aria-live) and the title flashes
  renderOffers();
}

function removeOffer(id, why) {
  const o = offers.get(id);
  if (!o) return;
  offers.delete(id);
  renderOffers();
  if (why) toast(why);
}

function renderOffers() {
  const box = $('offers');
  box.replaceChildren();
  for (const o of offers.values()) {
    const ctx = o.context || {};
    const name = (o.visitor && o.visitor.name) || 'Visitor';
    const accept = el('button', { class: 'primary', type: 'button', text: 'Accept', 'aria-label': `Accept chat from ${name}` });
    const decline = el('button', { type: 'button', text: 'Decline', 'aria-label': `Decline chat from ${name}` });
    const left = el('span', { class: 'left' });
    const bar = el('i');
    const card = el('article', { class: 'offer', 'aria-label': `Chat offer from ${name}`, dataset: { conversationId: o.conversation_id } },
      el('div', { class: 'who', text: name }),
      el('div', { class: 'tags' },
        el('span', { class: 'tag', text: o.team }),
        o.priority && o.priority !== 'normal' ? el('span', { class: 'tag ' + o.priority, text: o.priority }) : null,
        ctx.stage ? el('span', { class: 'tag', text: ctx.stage.replace('_', '-') }) : null),
      el('p', { class: 'preview', text: o.preview || '(no message yet)' }),
      el('div', { class: 'bar', 'aria-hidden': 'true' }, bar),
      el('div', { class: 'row' }, left, decline, accept));
    o.node = { card, left, bar, accept, decline };
    accept.addEventListener('click', () => answerOffer(o, 'accept'));
    decline.addEventListener('click', () => answerOffer(o, 'decline'));
    box.append(card);
  }
  $('offer-count').textContent = offers.size ? String(offers.size) : '';
  $('no-offers').hidden = offers.size > 0;
  tickOffers();
  renderTitle();
}

function tickOffers() {
  const now = Date.now();
  for (const o of offers.values()) {
    if (!o.node) continue;
    const left = Math.max(0, Math.ceil((o.deadline - now) / 1000));
    o.node.left.textContent = left > 0 ? `${left} s left` : 'Expiring…';
    o.node.bar.style.width = (100 * Math.max(0, o.deadline - now) / (o.total * 1000)) + '%';
    o.node.card.classList.toggle('expiring', left <= 10);
    if (left === 0) { o.node.accept.disabled = true; }
  }
}
setInterval(tickOffers, 250);

async function answerOffer(o, what) {
  o.node.accept.disabled = o.node.decline.disabled = true;
  try {
    await conn.request({ type: 'conversation.' + what, conversation_id: o.conversation_id });
    offers.delete(o.conversation_id);
    if (what === 'accept') {
      let chat = chats.get(o.conversation_id);
      if (!chat) chat = addChat(o.conversation_id, { team: o.team });
      chat.visitor = o.visitor;
      chat.context = o.context;
      chat.priority = o.priority;
      chat.open = true;
      chat.status = 'active';
      if (!chat.loaded) loadHistory(chat);
      select(chat.id);
    }
    renderOffers();
    renderLists();
  } catch (e) {
    if (e.code === 'conflict') { offers.delete(o.conversation_id); renderOffers(); toast('Too late: that offer has expired or was taken.', true); return; }
    toast(`Could not ${what}: ${explain(e)}`, true);
    if (o.node) o.node.accept.disabled = o.node.decline.disabled = false;
  }
}

// Title-bar alert while offers wait; unread count otherwise.
let titleFlip = false;
function renderTitle() {
  const unread = [...chats.values()].reduce((n, c) => n + c.unread, 0);
  let t = 'Exceed · Agent console';
  if (offers.size) t = (titleFlip ? '🔔 ' : '') + `(${offers.size}) New chat offer · Exceed`;
  else if (unread) t = `(${unread}) ${t}`;
  document.title = t;
}
setInterval(() => { titleFlip = !titleFlip; if (offers.size) renderTitle(); }, 1000);

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.15, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    o.connect(g).connect(audio.destination);
    o.start(); o.stop(audio.currentTime + 0.4);
  } catch { /* no audio */ }
}

// ------------------------------------------------------------------- chats
function addChat(id, init) {
  const chat = {
    id, team: init.team, visitor: null, context: null, priority: null, status: 'active',
    open: true, closedReason: null, loaded: false, loading: false,
    messages: new Map(), lastSeq: 0, notes: [], outbox: [], unread: 0, sentRead: 0, customerRead: 0,
    typing: null, typingTimer: null, draft: '', mode: 'reply',
    visitorName() { return (this.visitor && this.visitor.name) || 'Visitor'; },
  };
  chats.set(id, chat);
  loadRecord(chat);
  return chat;
}

// The conversation record has the visitor, context, times, and once
// resolved the assessment and the facts people gave.
function loadRecord(chat) {
  return api('/api/v1/conversations/' + encodeURIComponent(chat.id), { token: session.token }).then((c) => {
    chat.visitor = c.visitor; chat.context = c.context; chat.priority = c.priority; chat.record = c;
    if (c.facts && !chat.outcome) chat.outcome = { outcome: c.facts.outcome, went_beyond: c.facts.went_beyond };
    if (c.status === 'resolved') { chat.open = false; chat.status = 'resolved'; chat.closedReason = chat.closedReason || 'resolved'; }
    renderLists();
    if (chat.id === selected) renderChat();
  }).catch(() => { /* the chat still works without its record */ });
}

async function loadHistory(chat) {
  if (chat.loading) return;
  chat.loading = true;
  try {
    let after = 0;
    for (let i = 0; i < 50; i++) {
      const ack = await conn.request({ type: 'history.get', conversation_id: chat.id, after_seq: after, limit: 200 });
      for (const m of ack.messages) addMessage(chat, m, true);
      if (!ack.has_more || !ack.messages.length) break;
      after = ack.messages[ack.messages.length - 1].seq;
    }
    chat.loaded = true;
    if (chat.id !== selected || document.hidden) chat.unread = countUnread(chat);
    if (chat.id === selected) { renderLog(); sendRead(chat); }
    renderLists();
    renderTitle();
  } catch (e) {
    if (e.code !== 'disconnected') toast('Could not load the history: ' + explain(e), true);
  } finally {
    chat.loading = false;
  }
}

async function fillGap(chat) {
  if (chat.filling) return;
  chat.filling = true;
  try {
    const ack = await conn.request({ type: 'history.get', conversation_id: chat.id, after_seq: chat.lastSeq, limit: 200 });
    for (const m of ack.messages) addMessage(chat, m);
  } catch { /* next resume fills it */ }
  chat.filling = false;
}

function addMessage(chat, m, fromHistory) {
  if (chat.messages.has(m.seq)) return;    // never twice
  chat.messages.set(m.seq, m);
  while (chat.messages.has(chat.lastSeq + 1)) chat.lastSeq++;
  if (m.client_msg_id) chat.outbox = chat.outbox.filter((o) => o.client_msg_id !== m.client_msg_id);
  if (m.from.role === 'agent' && chat.sla && !fromHistory) { chat.sla = null; if (chat.id === selected) renderSla(); }
  if (m.from.role === 'customer') {
    chat.typing = null;
    const visible = chat.id === selected && !document.hidden;
    if (!visible && m.seq > chat.sentRead) chat.unread = countUnread(chat);
  }
  if (fromHistory) return; // loadHistory renders once at the end
  if (chat.id === selected) { renderLog(); sendRead(chat); }
  renderLists();
  renderTitle();
}

function countUnread(chat) {
  let n = 0;
  for (const m of chat.messages.values()) if (m.from.role === 'customer' && m.seq > chat.sentRead) n++;
  return n;
}

function sendRead(chat) {
  if (document.hidden || chat.id !== selected) return;
  let top = 0;
  for (const m of chat.messages.values()) if (m.from.role === 'customer' && m.seq > top) top = m.seq;
  chat.unread = 0;
  if (top > chat.sentRead && chat.open) {
    if (conn.send({ type: 'read', conversation_id: chat.id, seq: top })) chat.sentRead = top;
  }
  renderLists();
  renderTitle();
}
document.addEventListener('visibilitychange', () => {
  const c = selected && chats.get(selected);
  if (c && !document.hidden) sendRead(c);
});

function lastText(chat) {
  let last = null;
  for (const m of chat.messages.values()) if (!last || m.seq > last.seq) last = m;
  return last ? (last.from.role === 'agent' ? 'You: ' : '') + last.text : '';
}

function renderLists() {
  const ul = $('chats');
  ul.replaceChildren();
  const list = [...chats.values()].sort((a, b) => (b.open - a.open) || (b.lastSeq ? 1 : 0) - (a.lastSeq ? 1 : 0));
  for (const c of list) {
    const btn = el('button', { type: 'button', 'aria-current': c.id === selected ? 'true' : 'false', dataset: { conversationId: c.id } },
      el('span', { class: 'name', text: c.visitorName() + (c.open ? '' : ' · ' + (c.closedReason || 'closed')) }),
      c.unread ? el('span', { class: 'unread', 'aria-label': `${c.unread} unread`, text: String(c.unread) }) : null,
      el('span', { class: 'last', text: c.typing ? 'typing…' : lastText(c) }));
    btn.addEventListener('click', () => select(c.id));
    ul.append(el('li', { class: c.open ? '' : 'closed' }, btn));
  }
  $('no-chats').hidden = chats.size > 0;
}

function select(id) {
  const prev = selected && chats.get(selected);
  if (prev) { prev.draft = $('input').value; stopTyping(prev); }
  selected = id;
  const chat = chats.get(id);
  $('input').value = chat.draft || '';
  renderChat();
  renderLists();
  sendRead(chat);
  $('input').focus();
}

function renderChat() {
  const chat = selected && chats.get(selected);
  $('chat').hidden = !chat;
  $('empty-main').hidden = !!chat;
  $('context').hidden = !chat;
  if (!chat) return;
  const ctx = chat.context || {};
  $('chat-title').textContent = chat.visitorName();
  $('chat-sub').textContent = [chat.team, chat.priority && chat.priority !== 'normal' ? chat.priority : null,
    ctx.stage ? ctx.stage.replace('_', '-') : null].filter(Boolean).join(' · ');
  const banner = $('chat-banner');
  banner.hidden = chat.open;
  banner.textContent = chat.open ? '' : `This chat is ${chat.closedReason || 'closed'}. You can still read it.`;
  $('resolve').disabled = !chat.open;
  for (const x of $('transfer-form').elements) x.disabled = !chat.open;
  $('composer').hidden = !chat.open;
  const dl = $('ctx');
  dl.replaceChildren();
  const rows = [['Name', chat.visitorName()], ['Visitor id', chat.visitor && chat.visitor.id]];
  if (ctx.page_url) rows.push(['Page', ctx.page_url]);
  if (ctx.stage) rows.push(['Stage', { pre_purchase: 'Before purchase', purchase: 'Purchasing', post_purchase: 'After purchase' }[ctx.stage] || ctx.stage]);
  for (const [k, v] of Object.entries(ctx)) if (k !== 'page_url' && k !== 'stage') rows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  if (chat.record && chat.record.response_times && chat.record.response_times.queue_wait_s != null) {
    rows.push(['Waited in queue', Math.round(chat.record.response_times.queue_wait_s) + ' s']);
  }
  for (const [k, v] of rows) if (v) dl.append(el('dt', { text: k }), el('dd', { text: v }));
  renderOutcome(chat);
  renderLog();
  renderTyping();
  renderSla();
}

// The agent's record of how the chat ended (conversation.outcome), kept on
// the chat so switching chats shows what was saved.
function renderOutcome(chat) {
  const form = $('outcome-form');
  const o = chat.outcome || {};
  for (const r of form.querySelectorAll('input[name=outcome]')) r.checked = r.value === o.outcome;
  $('went-beyond').value = o.went_beyond || '';
  $('outcome-saved').textContent = o.outcome || o.went_beyond ? 'Saved.' : '';
  // The assessment of a resolved chat: level, confidence, and the reasons
  // with the customer's words they rest on.
  const a = chat.record && chat.record.assessment;
  $('judged').hidden = chat.open;
  $('judged-level').textContent = a ? `${a.level} · ${a.confidence || 'medium'} confidence` : 'Not assessed yet.';
  $('judged-level').dataset.level = a ? a.level : '';
  $('judged-reasons').replaceChildren(...(a ? a.reasons.slice(0, 5) : []).map((r) =>
    el('li', { dataset: { code: r.code }, text: r.text })));
}

$('judged-refresh').addEventListener('click', () => { const chat = chats.get(selected); if (chat) loadRecord(chat); });

$('outcome-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = chats.get(selected);
  if (!chat) return;
  const checked = $('outcome-form').querySelector('input[name=outcome]:checked');
  const beyond = $('went-beyond').value.trim();
  const frame = { type: 'conversation.outcome', conversation_id: chat.id };
  if (checked) frame.outcome = checked.value;
  if (beyond) frame.went_beyond = beyond;
  if (!frame.outcome && !frame.went_beyond) { toast('Choose an outcome or write what went beyond.', true); return; }
  try {
    const ack = await conn.request(frame);
    chat.outcome = { outcome: ack.outcome, went_beyond: ack.went_beyond };
    if (chat.id === selected) renderOutcome(chat);
    toast('Outcome saved.');
    if (!chat.open) loadRecord(chat);
  } catch (err) {
    toast('Not saved: ' + explain(err), true);
  }
});

function renderLog() {
  const chat = selected && chats.get(selected);
  if (!chat) return;
  const log = $('log');
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const items = [...chat.messages.values()].map((m) => ({ ts: m.ts, seq: m.seq, m }));
  for (const n of chat.notes) items.push({ ts: n.ts, seq: Infinity, n });
  items.sort((a, b) => (a.m && b.m ? a.seq - b.seq : a.ts - b.ts));
  const nodes = items.map(({ m, n }) => {
    if (n) {
      return el('div', { class: 'msg note', dataset: { noteId: n.note_id } },
        el('div', { class: 'label', text: `Private note · ${n.from.name || n.from.id} · not visible to the customer` }),
        el('div', { class: 'text', text: n.text }),
        el('div', { class: 'meta', text: fmtTime(n.ts) }));
    }
    const role = m.from.role;
    let meta = fmtTime(m.ts);
    if (role === 'agent') meta += m.seq <= chat.customerRead ? ' · Read' : ' · Sent';
    if (role === 'customer') meta = `${chat.visitorName()} · ${meta}`;
    if (role === 'agent' && m.from.id !== session.agent_id) meta = `${m.from.name} · ${meta}`;
    return el('div', { class: 'msg ' + role, dataset: { seq: m.seq, state: role === 'agent' ? (m.seq <= chat.customerRead ? 'read' : 'sent') : null } },
      role === 'customer' ? el('span', { class: 'vh', text: 'Customer says: ' }) : null,
      el('div', { class: 'text', text: m.text }),
      role === 'system' ? null : el('div', { class: 'meta', text: meta }));
  });
  for (const o of chat.outbox) {
    nodes.push(el('div', { class: 'msg agent pending' + (o.failed ? ' failed' : ''), dataset: { cmid: o.client_msg_id, state: o.failed ? 'failed' : 'pending' } },
      el('div', { class: 'text', text: o.text }),
      el('div', { class: 'meta', text: o.failed ? 'Not sent: ' + o.failed : 'Sending…' }),
      o.failed ? el('button', { type: 'button', text: 'Try again', onclick: () => { o.failed = null; renderLog(); flushOutbox(chat); } }) : null));
  }
  log.replaceChildren(...nodes);
  if (atEnd || nodes.length < 4) log.scrollTop = log.scrollHeight;
}

function renderTyping() {
  const chat = selected && chats.get(selected);
  const t = $('typing');
  t.hidden = !(chat && chat.typing);
  t.textContent = chat && chat.typing ? `${chat.typing} is typing…` : '';
}

// ---------------------------------------------------------------- compose
const composer = $('composer');
composer.addEventListener('change', (e) => {
  if (e.target.name !== 'mode') return;
  const note = e.target.value === 'note';
  composer.classList.toggle('note-mode', note);
  $('input').placeholder = note ? 'Private note: only agents and supervisors see it' : 'Write a reply… (Enter sends, Shift+Enter new line)';
  $('send').textContent = note ? 'Add note' : 'Send';
  const chat = chats.get(selected);
  if (note && chat) stopTyping(chat);
});
$('input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); }
});
$('input').addEventListener('input', () => {
  const chat = chats.get(selected);
  if (!chat || composer.mode.value !== 'reply') return;
  if ($('input').value.trim()) noteTyping(chat); else stopTyping(chat);
});
composer.addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = chats.get(selected);
  const text = $('input').value.trim();
  if (!chat || !text) return;
  if (new TextEncoder().encode(text).length > 8000) { toast('Too long: 8000 bytes at most.', true); return; }
  if (composer.mode.value === 'note') {
    $('send').disabled = true;
    try {
      const ack = await conn.request({ type: 'note.add', conversation_id: chat.id, text });
      $('input').value = '';
      // The note event normally arrives too; add it now in case it comes later.
      if (!chat.notes.some((n) => n.note_id === ack.note_id)) {
        chat.notes.push({ note_id: ack.note_id, ts: ack.ts, text, from: { role: 'agent', id: session.agent_id, name: session.name } });
      }
      renderLog();
    } catch (ex) {
      toast('Note not added: ' + explain(ex), true);
    } finally { $('send').disabled = false; }
    return;
  }
  $('input').value = '';
  stopTyping(chat);
  chat.outbox.push({ client_msg_id: uuid(), text });
  renderLog();
  flushOutbox(chat);
});

async function flushOutbox(chat) {
  if (chat.flushing || !conn || conn.state !== 'online') return;
  chat.flushing = true;
  try {
    for (const o of chat.outbox.slice()) {
      if (o.failed) continue;
      let ack;
      try {
        ack = await conn.request({ type: 'message.send', conversation_id: chat.id, client_msg_id: o.client_msg_id, text: o.text });
      } catch (e) {
        if (e.code === 'disconnected') break;          // re-sent with the same client_msg_id after reconnect
        if (e.code === 'unavailable' || e.code === 'rate_limited') { setTimeout(() => flushOutbox(chat), 2000); break; }
        o.failed = explain(e);
        renderLog();
        continue;
      }
      chat.outbox = chat.outbox.filter((x) => x !== o);
      if (!chat.messages.has(ack.seq)) {
        addMessage(chat, { conversation_id: chat.id, seq: ack.seq, ts: ack.ts, text: o.text, client_msg_id: o.client_msg_id,
          from: { role: 'agent', id: session.agent_id, name: session.name } });
      } else if (chat.id === selected) renderLog();
    }
  } finally { chat.flushing = false; }
}

let typingSentAt = 0;
let typingIdle = null;
let typingFor = null;
function noteTyping(chat) {
  if (!chat.open) return;
  const now = Date.now();
  if (typingFor !== chat.id || now - typingSentAt > TYPING_EVERY_MS) {
    if (conn.send({ type: 'typing', conversation_id: chat.id, state: true })) { typingSentAt = now; typingFor = chat.id; }
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(() => stopTyping(chat), 4000);
}
function stopTyping(chat) {
  clearTimeout(typingIdle);
  if (typingFor !== chat.id) return;
  typingFor = null;
  if (chat.open) conn.send({ type: 'typing', conversation_id: chat.id, state: false });
}

// --------------------------------------------------------------- actions
$('resolve').addEventListener('click', async () => {
  const chat = chats.get(selected);
  if (!chat) return;
  $('resolve').disabled = true;
  try {
    await conn.request({ type: 'conversation.resolve', conversation_id: chat.id });
    chat.open = false; chat.status = 'resolved'; chat.closedReason = 'resolved';
    toast(`Chat with ${chat.visitorName()} resolved. The customer is asked for feedback.`);
    renderLists(); renderChat();
  } catch (e) {
    toast('Not resolved: ' + explain(e), true);
    $('resolve').disabled = !chat.open;
  }
});

$('transfer-kind').addEventListener('change', () => {
  $('transfer-target').placeholder = $('transfer-kind').value === 'team' ? 'e.g. sales' : 'agent id';
});
$('transfer-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = chats.get(selected);
  const target = $('transfer-target').value.trim();
  if (!chat || !target) return;
  const frame = { type: 'conversation.transfer', conversation_id: chat.id };
  if ($('transfer-kind').value === 'team') frame.to_team = target; else frame.to_agent_id = target;
  try {
    await conn.request(frame);
    $('transfer-target').value = '';
    chat.open = false; chat.closedReason = 'transferred';
    toast(`Transferred to ${target}.`);
    renderLists(); renderChat();
  } catch (ex) {
    const why = ex.code === 'not_found' ? `no team or agent called “${target}”` : ex.code === 'conflict' ? 'that agent is not online or has no free slot' : explain(ex);
    toast('Not transferred: ' + why, true);
  }
});

// --------------------------------------------------------------------- SLA
// Only what the server says: a timer exists once an sla.warning arrived for the
// chat, and goes away when the agent replies (the next customer message brings
// new warnings).
const METRIC_WORDS = { queue_wait: 'Queue wait', first_response: 'First response', next_response: 'Next response', resolution: 'Resolution' };
function serverNow() { return Date.now() + (conn && conn.serverSkew ? conn.serverSkew : 0); }
function mmss(s) {
  s = Math.max(0, Math.round(s));
  const m = Math.floor(s / 60);
  return m + ':' + String(s % 60).padStart(2, '0');
}

function onSlaWarning(f) {
  const chat = chats.get(f.conversation_id);
  if (!chat) return;
  const dueAt = f.due_at != null ? f.due_at : serverNow() + (f.due_in_s || 0) * 1000;
  chat.sla = { metric: f.metric, dueAt, breached: !!f.breached, lateS: f.late_s || 0, receivedAt: serverNow() };
  if (chat.id === selected) renderSla();
}

function renderSla() {
  const box = $('sla');
  const chat = selected && chats.get(selected);
  const sla = chat && chat.open ? chat.sla : null;
  if (!sla) {
    box.dataset.state = 'none';
    box.dataset.metric = '';
    box.replaceChildren(el('span', { class: 'muted', text: 'No timer from the server for this chat.' }));
    return;
  }
  const metric = METRIC_WORDS[sla.metric] || sla.metric;
  const left = (sla.dueAt - serverNow()) / 1000;
  let text;
  if (sla.breached) {
    const late = Math.max(sla.lateS, -left, 0) ;
    text = `Breached · ${mmss(late)} over`;
  } else if (left > 0) {
    text = `${mmss(left)} left`;
  } else {
    text = 'Due now';
  }
  box.dataset.state = sla.breached ? 'breached' : 'warning';
  box.dataset.metric = sla.metric;
  box.replaceChildren(el('span', { class: 'metric', text: metric }), el('span', { class: 'left', text }));
}
setInterval(() => { if (selected && chats.get(selected) && chats.get(selected).sla) renderSla(); }, 1000);

// --------------------------------------------------------------- follow-ups
let followups = [];
function pad2(n) { return String(n).padStart(2, '0'); }
function toLocalInput(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}
const KIND_WORDS = { callback: 'Call back', check_in: 'Check in', reminder: 'Reminder' };

async function loadFollowups() {
  if (!session) return;
  try {
    const r = await api('/api/v1/followups?owner=me&limit=200', { token: session.token });
    followups = r.items || [];
    renderFollowups();
  } catch (e) {
    if (e.code === 'unauthorized') signOut('Your session expired. Please sign in again.');
  }
}

function renderFollowups() {
  const ul = $('fu-list');
  const now = serverNow();
  let overdue = 0;
  ul.replaceChildren(...followups.map((f) => {
    const late = f.overdue || f.due_at <= now;
    if (late) overdue++;
    const chat = f.conversation_id && chats.get(f.conversation_id);
    const about = chat ? 'Chat with ' + chat.visitorName() : f.ticket_id ? 'Ticket ' + f.ticket_id : f.conversation_id ? 'Chat ' + f.conversation_id : '';
    const done = el('button', { type: 'button', text: 'Done', 'aria-label': `Mark follow-up “${f.note}” done` });
    done.addEventListener('click', () => completeFollowup(f, done));
    return el('li', { class: late ? 'overdue' : '', dataset: { followupId: f.id, overdue: late ? 'true' : 'false' } },
      el('span', { class: 'tag', text: KIND_WORDS[f.kind] || f.kind }), ' ',
      el('span', { class: 'about', text: about }),
      el('span', { class: 'note', text: f.note }),
      el('div', { class: 'row' },
        el('span', { class: 'due', text: (late ? 'Overdue · was due ' : 'Due ') + new Date(f.due_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) }),
        done));
  }));
  $('fu-empty').hidden = followups.length > 0;
  $('fu-count').textContent = overdue ? String(overdue) : '';
}
setInterval(() => { if (followups.length) renderFollowups(); }, 5000);

async function completeFollowup(f, btn) {
  btn.disabled = true;
  try {
    await conn.request({ type: 'followup.complete', followup_id: f.id });
    toast('Follow-up done.');
  } catch (e) {
    if (e.code !== 'conflict') { toast('Not marked done: ' + explain(e), true); btn.disabled = false; return; }
  }
  loadFollowups();
}

function onFollowupDue(f) {
  const chat = f.conversation_id && chats.get(f.conversation_id);
  const about = chat ? ` (chat with ${chat.visitorName()})` : f.ticket_id ? ` (ticket ${f.ticket_id})` : '';
  toast(`Follow-up due${about}: ${f.note || ''}`, true);
  if (prefs.sound) beep();
  loadFollowups();
}

$('fu-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = selected && chats.get(selected);
  if (!chat) return;
  const due = new Date($('fu-due').value).getTime();
  const note = $('fu-note').value.trim();
  if (!Number.isFinite(due)) { toast('Pick when the follow-up is due.', true); return; }
  if (!note) { toast('Write what to follow up on.', true); return; }
  $('fu-add').disabled = true;
  try {
    await conn.request({ type: 'followup.create', conversation_id: chat.id, due_at: due, note, kind: $('fu-kind').value });
    $('fu-note').value = '';
    toast('Follow-up added.');
    loadFollowups();
  } catch (ex) {
    toast('Follow-up not added: ' + (ex.code === 'bad_request' ? ex.message : explain(ex)), true);
  } finally { $('fu-add').disabled = false; }
});
$('fu-due').value = toLocalInput(Date.now() + 3600 * 1000);

// ------------------------------------------------------------------ tickets
let view = 'chats';
let tickets = [];
let openTicket = null;
const TICKET_STATUS = { new: 'New', open: 'Open', pending: 'Pending', on_hold: 'On hold', solved: 'Solved', closed: 'Closed' };

function showView(v) {
  view = v;
  $('chats-view').hidden = v !== 'chats';
  $('tickets-view').hidden = v !== 'tickets';
  $('tab-chats').setAttribute('aria-pressed', String(v === 'chats'));
  $('tab-tickets').setAttribute('aria-pressed', String(v === 'tickets'));
  if (v === 'tickets') loadTickets();
}
$('tab-chats').addEventListener('click', () => showView('chats'));
$('tab-tickets').addEventListener('click', () => showView('tickets'));
$('tk-status').addEventListener('change', loadTickets);
$('tk-scope').addEventListener('change', loadTickets);
$('tk-refresh').addEventListener('click', loadTickets);

let ticketsSeq = 0;
async function loadTickets() {
  if (!session) return;
  const mine = ++ticketsSeq;
  const q = new URLSearchParams({ limit: '200', sort: 'updated' });
  if ($('tk-status').value) q.set('status', $('tk-status').value);
  if ($('tk-scope').value === 'me') q.set('assignee', 'me');
  try {
    const r = await api('/api/v1/tickets?' + q, { token: session.token });
    if (mine !== ticketsSeq) return;
    tickets = r.items || [];
    $('tk-error').hidden = true;
    renderTickets();
  } catch (e) {
    if (e.code === 'unauthorized') { signOut('Your session expired. Please sign in again.'); return; }
    $('tk-error').hidden = false;
    $('tk-error').textContent = 'Could not load the tickets: ' + explain(e);
  }
}

function renderTickets() {
  $('tk-items').replaceChildren(...tickets.map((t) => {
    const btn = el('button', { type: 'button', 'aria-current': openTicket && openTicket.id === t.id ? 'true' : 'false', dataset: { ticketId: t.id } },
      el('span', { class: 'subj', text: t.subject || '(no subject)' }),
      el('span', { class: 'info' }, el('span', { class: 'tk-status', dataset: { status: t.status }, text: TICKET_STATUS[t.status] || t.status }),
        ' · ' + [t.requester && t.requester.name, t.team, t.assignee ? 'assigned to ' + t.assignee.name : 'unassigned'].filter(Boolean).join(' · ')));
    btn.addEventListener('click', () => openTicketView(t.id));
    return el('li', {}, btn);
  }));
  $('tk-empty').hidden = tickets.length > 0;
}

let ticketViewSeq = 0;
async function openTicketView(id) {
  const mine = ++ticketViewSeq;
  try {
    const [t, c] = await Promise.all([
      api('/api/v1/tickets/' + encodeURIComponent(id), { token: session.token }),
      api('/api/v1/tickets/' + encodeURIComponent(id) + '/comments', { token: session.token }),
    ]);
    if (mine !== ticketViewSeq) return; // a newer read is on its way
    openTicket = t;
    renderTicket(t, c.items || []);
    renderTickets();
  } catch (e) {
    toast('Could not open the ticket: ' + explain(e), true);
  }
}

function renderTicket(t, comments) {
  $('tk-detail').hidden = false;
  $('tk-none').hidden = true;
  const sel = $('tk-set-status');
  // Keep what the agent picked unless the ticket or its status changed under it.
  if ($('tk-detail').dataset.ticketId !== t.id || sel.dataset.shown !== t.status) {
    sel.value = t.status === 'new' ? 'open' : t.status;
    sel.dataset.shown = t.status;
  }
  $('tk-detail').dataset.ticketId = t.id;
  $('tk-subject').textContent = t.subject || '(no subject)';
  $('tk-meta').textContent = [TICKET_STATUS[t.status] || t.status, t.priority, t.team,
    t.requester ? 'from ' + t.requester.name : null, t.assignee ? 'assigned to ' + t.assignee.name : 'unassigned',
    'updated ' + new Date(t.updated_at).toLocaleString()].filter(Boolean).join(' · ');
  const closed = t.status === 'closed';
  for (const x of $('tk-status-form').elements) x.disabled = closed;
  for (const x of $('tk-comment-form').elements) x.disabled = closed;
  $('tk-comments').replaceChildren(...comments.map((c) => {
    const who = (c.author && (c.author.name || c.author.id)) || 'someone';
    const role = c.author && c.author.role === 'customer' ? 'customer' : 'agent';
    if (!c.public) {
      return el('div', { class: 'msg note', dataset: { commentId: c.id } },
        el('div', { class: 'label', text: `Private note · ${who} · not visible to the customer` }),
        el('div', { class: 'text', text: c.text }),
        el('div', { class: 'meta', text: new Date(c.ts).toLocaleString() }));
    }
    return el('div', { class: 'msg ' + role, dataset: { commentId: c.id } },
      el('div', { class: 'text', text: c.text }),
      el('div', { class: 'meta', text: `${who} · ${new Date(c.ts).toLocaleString()}` }));
  }));
  if (!comments.length) $('tk-comments').append(el('p', { class: 'empty', text: 'No comments yet.' }));
  $('tk-comments').scrollTop = $('tk-comments').scrollHeight;
}

$('tk-comment-form').addEventListener('change', (e) => {
  if (e.target.name !== 'tkmode') return;
  const note = e.target.value === 'note';
  $('tk-comment-form').classList.toggle('note-mode', note);
  $('tk-text').placeholder = note ? 'Private note: only agents and supervisors see it' : 'Write a reply to the requester…';
});
$('tk-comment-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = openTicket;
  const text = $('tk-text').value.trim();
  if (!t || !text) return;
  const pub = $('tk-comment-form').tkmode.value === 'public';
  $('tk-send').disabled = true;
  try {
    await api('/api/v1/tickets/' + encodeURIComponent(t.id) + '/comments', { token: session.token, method: 'POST', body: { text, public: pub } });
    $('tk-text').value = '';
    toast(pub ? 'Reply sent.' : 'Note added.');
    openTicketView(t.id);
    loadTickets();
  } catch (ex) {
    toast('Not added: ' + explain(ex), true);
  } finally { $('tk-send').disabled = false; }
});
$('tk-status-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = openTicket;
  if (!t) return;
  const status = $('tk-set-status').value;
  try {
    await api('/api/v1/tickets/' + encodeURIComponent(t.id), { token: session.token, method: 'PATCH', body: { status } });
    toast(`Ticket is now ${TICKET_STATUS[status] || status}.`);
  } catch (ex) {
    toast('Status not changed: ' + (ex.code === 'conflict' ? 'not possible from ' + (TICKET_STATUS[t.status] || t.status) + ', or changed meanwhile' : explain(ex)), true);
  }
  openTicketView(t.id);
  loadTickets();
});

let ticketEventTimer = null;
function onTicketEvent(f) {
  if (f.type === 'ticket.created' && f.ticket && view !== 'tickets') toast(`New ticket: ${f.ticket.subject || f.ticket.id}`);
  clearTimeout(ticketEventTimer);
  ticketEventTimer = setTimeout(() => {
    if (view === 'tickets') loadTickets();
    if (openTicket && f.ticket && f.ticket.id === openTicket.id) openTicketView(openTicket.id);
  }, 200);
}

// ------------------------------------------------------------------- boot
const saved = readJSON(sessionStorage, SESSION_KEY);
if (saved.token && (!saved.expires_at || saved.expires_at > Date.now() + 30000)) {
  session = saved;
  startApp();
} else {
  showLogin();
}
