// Exceed agent console. Wire contract: proto/PROTOCOL.md.
// Accessibility (docs/ACCESSIBILITY.md): what changes live is updated in
// place (the offers, the chat list, the transcript, the tickets and
// follow-ups), so focus stays where the agent put it and a screen reader
// hears each new thing once; after every action that takes away what had
// focus (login, accept, resolve, transfer, a dialog), focus goes to what
// comes next. An offer reaches the agent on every tab: a badge on Chats,
// the offer strip at the top, and, if they ask for them, a sound and a
// desktop notification.
import { Connection, api, explain, uuid, el, fmtTime, connWords, connCountdown, attachmentView } from '../shared/conn.js';
import { setText, syncChildren, Toaster, Picker } from '../shared/ui.js';
import { VisitorList, money } from '../shared/visitors.js';
import { ReplyManager, ReplySuggest } from '../shared/replies.js';

const SESSION_KEY = 'exceed.console.session';
const PREFS_KEY = 'exceed.console.prefs'; // + ':' + agent id: each agent's own
const TYPING_EVERY_MS = 3000;
const TYPING_SHOW_MS = 10000;
const $ = (id) => document.getElementById(id);

let session = null;       // {token, role, agent_id, name, expires_at}
let conn = null;
let prefs = defaultPrefs();
let status = null;        // the status the server last confirmed
const offers = new Map(); // conversation_id -> offer {…, deadline, node}
const chats = new Map();  // conversation_id -> chat
let selected = null;
let connDetail = null;
const toaster = new Toaster($('toasts'));
toaster.onEmpty = () => focusHome();

function defaultPrefs() { return { status: 'offline', capacity: null, sound: false, notify: false }; }
function readJSON(store, key) { try { return JSON.parse(store.getItem(key)) || {}; } catch { return {}; } }
// Status, capacity and alerts are remembered per agent on this browser.
function loadPrefs() {
  const own = readJSON(localStorage, PREFS_KEY + ':' + session.agent_id);
  prefs = Object.assign(defaultPrefs(), Object.keys(own).length ? own : readJSON(localStorage, PREFS_KEY));
}
function savePrefs() { try { localStorage.setItem(PREFS_KEY + ':' + session.agent_id, JSON.stringify(prefs)); } catch { /* ignore */ } }

// Information goes by itself after a while; what matters stays until dismissed.
function toast(text, bad, sticky) { return toaster.show(text, { bad, sticky: sticky ?? bad }); }

// Where focus goes when what had it is gone: the open chat's message box,
// else the view's own heading.
function focusHome() {
  if (view === 'tickets') { $('tk-h').tabIndex = -1; $('tk-h').focus(); return; }
  const chat = selected && chats.get(selected);
  if (chat && chat.open && !$('composer').hidden) $('input').focus();
  else if (chat && !$('chat-banner').hidden) $('chat-banner').focus();
  else $('chats-h').focus();
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
    // The login form is gone: the agent's next step is their status.
    $('status').focus();
  } catch (ex) {
    showLogin(ex.code === 'unauthorized' ? 'Wrong username or password. Check both and try again.'
      : ex.code === 'rate_limited' || ex.code === 'http_429' ? 'Too many sign-in attempts. Wait a few minutes, then try again.'
        : 'Could not sign in. ' + explain(ex) + '.');
  } finally {
    btn.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  // Forgotten at once: a reload while the offline request is out must not
  // sign the agent back in.
  sessionStorage.removeItem(SESSION_KEY);
  if (conn && conn.state === 'online') {
    // Offline first, so no offer waits for someone who left; but signing
    // out never hangs on a link that stopped answering: 3 s at most.
    const gaveUp = new Promise((resolve) => setTimeout(resolve, 3000));
    try {
      await Promise.race([conn.request({ type: 'agent.status', status: 'offline' }), gaveUp]);
    } catch { /* signing out anyway */ }
  }
  signOut();
});

function signOut(message) {
  if (conn) conn.stop();
  conn = null;
  session = null;
  status = null;
  sessionStorage.removeItem(SESSION_KEY);
  for (const o of offers.values()) if (o.notification) o.notification.close();
  offers.clear(); chats.clear(); selected = null;
  $('offers').replaceChildren(); $('chats').replaceChildren();
  $('toasts').replaceChildren();
  showLogin(message);
}

// --------------------------------------------------------------- app start
function startApp() {
  loadPrefs();
  $('login-view').hidden = true;
  $('app').hidden = false;
  $('me').textContent = session.name || session.agent_id;
  $('status').value = prefs.status;
  $('capacity').value = prefs.capacity || '';
  $('sound').checked = !!prefs.sound;
  renderNotifyBox();
  renderLists();
  renderOffers();
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
  if (selected) renderChat(false);
  loadFollowups();
  if (view === 'tickets') loadTickets();
  if (visitorsWatched) visitorList.start();
}

async function applyStatus(announce) {
  const frame = { type: 'agent.status', status: prefs.status };
  if (prefs.capacity) frame.capacity = prefs.capacity;
  try {
    const ack = await conn.request(frame);
    status = ack.status;
    $('status').value = ack.status;
    $('capacity').value = ack.capacity;
    renderOffersState();
    if (announce) toast(`You are ${ack.status} (up to ${ack.capacity} chats).`);
  } catch (e) {
    if (e.code !== 'disconnected') toast('Your status did not change. ' + explain(e) + '.', true);
  }
}
$('status').addEventListener('change', () => { prefs.status = $('status').value; savePrefs(); applyStatus(true); });
$('capacity').addEventListener('change', () => {
  const n = Number($('capacity').value);
  if (!Number.isInteger(n) || n < 1 || n > 50) { toast('Capacity must be a whole number from 1 to 50. Enter another number.', true); return; }
  prefs.capacity = n; savePrefs(); applyStatus(true);
});

// ------------------------------------------------------------------ alerts
// Sound and desktop notifications are the agent's choice (a browser asks
// once for notifications), remembered per agent.
$('sound').addEventListener('change', () => { prefs.sound = $('sound').checked; savePrefs(); if (prefs.sound) beep(); renderOffersState(); });

function renderNotifyBox() {
  const box = $('notify');
  if (!('Notification' in window)) {
    box.checked = false;
    box.disabled = true;
    box.title = 'This browser has no desktop notifications.';
    return;
  }
  box.checked = !!prefs.notify && Notification.permission === 'granted';
}
$('notify').addEventListener('change', async () => {
  const box = $('notify');
  if (!box.checked) { prefs.notify = false; savePrefs(); renderOffersState(); return; }
  let permission = Notification.permission;
  if (permission === 'default') permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    box.checked = false;
    prefs.notify = false;
    toast('Your browser blocks notifications from this page. Allow them in the browser’s site settings, then tick Desktop again.', true);
  } else {
    prefs.notify = true;
    toast('You will get a desktop notification for each new chat while you are on another tab or window.');
  }
  savePrefs();
  renderOffersState();
});

// A notification when the agent is not looking at the chats: on another
// tab of the console, another window, or another application.
function notify(title, body, tag, onclick) {
  if (!prefs.notify || !('Notification' in window) || Notification.permission !== 'granted') return null;
  if (view === 'chats' && !document.hidden && document.hasFocus()) return null;
  try {
    const n = new Notification(title, { body, tag, lang: 'en' });
    n.onclick = () => { window.focus(); n.close(); onclick && onclick(); };
    return n;
  } catch { return null; }
}

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

// ------------------------------------------------------------------ frames
function onFrame(f) {
  switch (f.type) {
    case 'conversation.offer': addOffer(f); break;
    case 'conversation.offer_expired': removeOffer(f.conversation_id, 'The chat offer expired or another agent took it.'); break;
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
      if (isNew && !selected) select(chat.id, false);
      renderLists();
      if (chat.id === selected) renderChat();
      break;
    }
    case 'conversation.unassigned': {
      const chat = chats.get(f.conversation_id);
      if (!chat) break;
      chat.open = false;
      // A transfer this console made says so itself (with whom).
      if (chat.transferredTo && f.reason === 'transferred') { renderLists(); if (chat.id === selected) renderChat(); break; }
      chat.closedReason = { transferred: 'transferred', requeued: 'returned to the queue (you were away too long)', reassigned: 'reassigned by a supervisor', ticketed: 'kept as a ticket' }[f.reason] || 'no longer yours';
      toast(`Your chat with ${chat.visitorName()} was ${chat.closedReason}.`, false, true);
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
        if (chat.id === selected) placeInLog(noteNode(f));
      }
      break;
    }
    case 'typing': {
      const chat = chats.get(f.conversation_id);
      if (!chat || !f.from || f.from.role !== 'customer') break;
      clearTimeout(chat.typingTimer);
      chat.typing = f.state ? (f.from.name || 'The customer') : null;
      if (f.state) chat.typingTimer = setTimeout(() => { chat.typing = null; if (chat.id === selected) renderTyping(); renderLists(); }, TYPING_SHOW_MS);
      if (chat.id === selected) renderTyping();
      renderLists();
      break;
    }
    case 'read': {
      const chat = chats.get(f.conversation_id);
      if (!chat || !f.from || f.from.role !== 'customer') break;
      if (f.seq > chat.customerRead) { chat.customerRead = f.seq; if (chat.id === selected) refreshReadState(chat); }
      break;
    }
    case 'followup.due': onFollowupDue(f); break;
    case 'visitors.update': visitorList.onUpdate(f); break;
    case 'sla.warning': onSlaWarning(f); break;
    case 'ticket.created': case 'ticket.assigned': case 'ticket.updated': case 'ticket.commented':
      onTicketEvent(f);
      break;
    case 'error':
      // Errors without a request id (e.g. a resume entry we may no longer see).
      if (f.code === 'not_found' || f.code === 'forbidden') break;
      toast(explain(f) + '.', true);
      break;
    default: break; // unknown events are ignored (forward compatible)
  }
}

// ------------------------------------------------------------------ offers
// The strip of offers shows on every tab. A new offer is spoken once (the
// announcer), sounds and notifies if the agent asked for it; its card is
// added in place, and its countdown ticks outside any live region.
function addOffer(f) {
  const existing = offers.get(f.conversation_id);
  const offer = Object.assign(existing || {}, f, { deadline: Date.now() + f.expires_in_s * 1000, total: existing ? existing.total : f.expires_in_s });
  offers.set(f.conversation_id, offer);
  renderOffers();
  if (existing) return;
  const name = visitorOf(offer);
  const preview = offer.preview ? `: “${offer.preview.slice(0, 140)}”` : '';
  setText($('announcer'), `New chat offer from ${name}${preview}. ${offer.expires_in_s} seconds to accept.`);
  if (prefs.sound) beep();
  offer.notification = notify(`New chat from ${name}`, offer.preview || 'A customer is waiting for you.', 'exceed-offer-' + offer.conversation_id, () => {
    showView('chats');
    const card = offer.node && offer.node.card;
    if (card && card.isConnected) offer.node.accept.focus();
  });
}

function visitorOf(o) { return (o.visitor && o.visitor.name) || 'Visitor'; }

function removeOffer(id, why) {
  const o = offers.get(id);
  if (!o) return;
  const had = $('incoming').contains(document.activeElement);
  offers.delete(id);
  if (o.notification) o.notification.close();
  renderOffers();
  if (had && !$('incoming').contains(document.activeElement)) {
    const next = $('offers').querySelector('.offer button.primary:not(:disabled)');
    if (next) next.focus(); else focusHome();
  }
  if (why) toast(why);
}

function renderOffers() {
  syncChildren($('offers'), [...offers.values()], {
    key: (o) => o.conversation_id,
    create: offerCard,
    update: () => {},
  });
  $('incoming').hidden = offers.size === 0;
  setText($('offer-count'), offers.size ? String(offers.size) : '');
  tickOffers();
  renderOffersState();
  renderTabBadge();
  renderTitle();
}

function offerCard(o) {
  const ctx = o.context || {};
  const name = visitorOf(o);
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
  return card;
}

// The line in the chat list about offers, true to the agent's status.
function renderOffersState() {
  let text;
  const alerts = prefs.sound || prefs.notify;
  if (offers.size) text = `${offers.size === 1 ? 'A chat offer is' : offers.size + ' chat offers are'} waiting under “Incoming chats” at the top.`;
  else if (status === 'online') {
    text = 'You are online. New chats appear at the top of the page' +
      (alerts ? ', wherever you are in the console.' : '. To be alerted on any tab, tick Sound or Desktop above.');
  } else if (status === 'away') text = 'You are away: you keep your chats but get no new ones. Set your status to Online to receive chats.';
  else if (status === 'offline') text = 'You are offline. Set your status to Online to receive chats.';
  else text = 'Connecting…';
  setText($('no-offers'), text);
}

function tickOffers() {
  const now = Date.now();
  for (const o of offers.values()) {
    if (!o.node) continue;
    const left = Math.max(0, Math.ceil((o.deadline - now) / 1000));
    setText(o.node.left, left > 0 ? `${left} s left` : 'Expiring…');
    o.node.bar.style.width = (100 * Math.max(0, o.deadline - now) / (o.total * 1000)) + '%';
    o.node.card.classList.toggle('expiring', left <= 10);
    if (left === 0) { o.node.accept.disabled = true; }
  }
}
setInterval(tickOffers, 1000);

async function answerOffer(o, what) {
  o.node.accept.disabled = o.node.decline.disabled = true;
  try {
    await conn.request({ type: 'conversation.' + what, conversation_id: o.conversation_id });
    if (o.notification) o.notification.close();
    if (what === 'accept') {
      offers.delete(o.conversation_id);
      let chat = chats.get(o.conversation_id);
      if (!chat) chat = addChat(o.conversation_id, { team: o.team });
      chat.visitor = o.visitor;
      chat.context = o.context;
      chat.priority = o.priority;
      chat.open = true;
      chat.status = 'active';
      if (!chat.loaded) loadHistory(chat);
      showView('chats');
      renderOffers();
      select(chat.id);
    } else {
      removeOffer(o.conversation_id);
    }
    renderLists();
  } catch (e) {
    if (e.code === 'conflict') { removeOffer(o.conversation_id, 'Too late: that chat offer expired or another agent took it.'); return; }
    toast(`Could not ${what} the chat. ${explain(e)}.`, true);
    if (o.node) { o.node.accept.disabled = o.node.decline.disabled = false; o.node.accept.focus(); }
  }
}

// The Chats tab tells, from any tab, how many offers and unread messages wait.
function renderTabBadge() {
  const unread = [...chats.values()].reduce((n, c) => n + c.unread, 0);
  const n = offers.size + unread;
  const badge = $('tab-chats-badge');
  badge.hidden = n === 0;
  setText(badge, String(n));
  const parts = [];
  if (offers.size) parts.push(offers.size === 1 ? '1 chat offer waiting' : `${offers.size} chat offers waiting`);
  if (unread) parts.push(unread === 1 ? '1 unread message' : `${unread} unread messages`);
  if (parts.length) $('tab-chats').setAttribute('aria-label', 'Chats, ' + parts.join(', '));
  else $('tab-chats').removeAttribute('aria-label');
  $('tab-chats').classList.toggle('has-badge', n > 0);
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
    if (chat.id === selected) renderChat(true);
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
    if (e.code !== 'disconnected') toast('Could not load the chat’s earlier messages. ' + explain(e) + '.', true);
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
    const visible = chat.id === selected && !document.hidden && view === 'chats';
    if (!visible && m.seq > chat.sentRead) chat.unread = countUnread(chat);
    if (!fromHistory && !visible) {
      if (prefs.sound && (document.hidden || view !== 'chats')) beep();
      notify(`${chat.visitorName()} wrote`, m.text.slice(0, 140), 'exceed-chat-' + chat.id, () => { showView('chats'); select(chat.id); });
    }
  }
  if (fromHistory) return; // loadHistory renders once at the end
  if (chat.id === selected) { placeMessage(chat, m); sendRead(chat); }
  renderLists();
  renderTitle();
}

function countUnread(chat) {
  let n = 0;
  for (const m of chat.messages.values()) if (m.from.role === 'customer' && m.seq > chat.sentRead) n++;
  return n;
}

function sendRead(chat) {
  if (document.hidden || chat.id !== selected || view !== 'chats') return;
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

// The chat list, updated in place: open chats first, each in the order it
// came, so an item keeps its node (and focus) as messages arrive.
function renderLists() {
  const list = [...chats.values()].sort((a, b) => b.open - a.open);
  syncChildren($('chats'), list, {
    key: (c) => c.id,
    create: (c) => {
      const btn = el('button', { type: 'button', dataset: { conversationId: c.id } },
        el('span', { class: 'name' }),
        el('span', { class: 'unread', hidden: true }, el('span', { class: 'n' }), el('span', { class: 'vh', text: ' unread' })),
        el('span', { class: 'last' }));
      btn.addEventListener('click', () => select(c.id));
      const li = el('li', {}, btn);
      fillChatItem(li, c);
      return li;
    },
    update: fillChatItem,
  });
  $('no-chats').hidden = chats.size > 0;
  renderTabBadge();
}

function fillChatItem(li, c) {
  li.className = c.open ? '' : 'closed';
  const btn = li.firstChild;
  btn.setAttribute('aria-current', c.id === selected ? 'true' : 'false');
  setText(btn.querySelector('.name'), c.visitorName() + (c.open ? '' : ' · ' + (c.closedReason || 'closed')));
  btn.querySelector('.unread').hidden = !c.unread;
  setText(btn.querySelector('.unread .n'), String(c.unread));
  setText(btn.querySelector('.last'), c.typing ? 'typing…' : lastText(c));
}

// Opens a chat: its transcript, and focus in its message box (or on the
// note that it is closed), unless `focus` is false (a chat that opened by
// itself must not take focus from what the agent is doing).
function select(id, focus = true) {
  const prev = selected && chats.get(selected);
  if (prev) { prev.draft = $('input').value; stopTyping(prev); }
  selected = id;
  const chat = chats.get(id);
  $('input').value = chat.draft || '';
  renderChat();
  renderLists();
  sendRead(chat);
  if (!focus) return;
  (chat.open ? $('input') : $('chat-banner')).focus({ preventScroll: true });
  // Stacked (narrow or zoomed), the chat is one window tall: show all of
  // it, transcript and reply box together.
  if (STACKED.matches) $('chat').scrollIntoView({ block: 'start' });
  else document.activeElement.scrollIntoView({ block: 'nearest' });
}
const STACKED = window.matchMedia('(max-width: 1100px), (max-height: 600px)');

// Renders the selected chat's header and details; the transcript is built
// anew only when another chat is selected (or `keepLog` is false).
function renderChat(keepLog = true) {
  const chat = selected && chats.get(selected);
  // A control about to hide or be disabled while it has focus hands focus
  // to the note that says why.
  const active = document.activeElement;
  const lose = active && ($('composer').contains(active) || active === $('resolve') || active === $('transfer'));
  $('chat').hidden = !chat;
  $('empty-main').hidden = !!chat;
  $('context').hidden = !chat;
  if (!chat) return;
  const ctx = chat.context || {};
  setText($('chat-title'), chat.visitorName());
  setText($('chat-sub'), [chat.team, chat.priority && chat.priority !== 'normal' ? chat.priority : null,
    ctx.stage ? ctx.stage.replace('_', '-') : null].filter(Boolean).join(' · '));
  const banner = $('chat-banner');
  banner.hidden = chat.open;
  setText(banner, chat.open ? '' : chat.closedReason === 'resolved'
    ? 'This chat is resolved. The customer is asked for feedback. Record how it ended under “How it ended”, or pick another chat.'
    : `This chat is ${chat.closedReason || 'closed'}. You can still read it.`);
  $('resolve').disabled = !chat.open;
  $('transfer').disabled = !chat.open;
  $('composer').hidden = !chat.open;
  const dl = $('ctx');
  dl.replaceChildren();
  const rows = [['Name', chat.visitorName()]];
  if (chat.visitor && chat.visitor.email) rows.push(['Email', chat.visitor.email]);
  if (ctx.page_url) rows.push(['Page', ctx.page_url]);
  if (ctx.stage) rows.push(['Stage', { pre_purchase: 'Before purchase', purchase: 'Purchasing', post_purchase: 'After purchase' }[ctx.stage] || ctx.stage]);
  // What the visit told (shared/visitors.js): the cart, the pages, the invitation.
  if (ctx.cart) rows.push(['Cart', money(ctx.cart)]);
  if (ctx.pages_seen != null) rows.push(['Pages seen', String(ctx.pages_seen)]);
  if (ctx.invitation) rows.push(['Came from', ctx.invitation.rule === 'manual' ? 'an invitation by an agent' : `an invitation (rule “${ctx.invitation.rule}”)`]);
  const shown = new Set(['page_url', 'stage', 'cart', 'pages_seen', 'invitation']);
  for (const [k, v] of Object.entries(ctx)) if (!shown.has(k)) rows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  if (chat.record && chat.record.response_times && chat.record.response_times.queue_wait_s != null) {
    rows.push(['Waited in queue', Math.round(chat.record.response_times.queue_wait_s) + ' s']);
  }
  for (const [k, v] of rows) if (v) dl.append(el('dt', { text: k }), el('dd', { text: v }));
  renderOutcome(chat);
  if (keepLog === false || $('log').dataset.conversationId !== chat.id) renderLog(); else refreshReadState(chat);
  renderTyping();
  renderSla();
  if (lose && !chat.open && (document.activeElement === document.body || !document.activeElement || document.activeElement.disabled ||
    document.activeElement.closest('[hidden]'))) banner.focus();
}

// The agent's record of how the chat ended (conversation.outcome), kept on
// the chat so switching chats shows what was saved.
function renderOutcome(chat) {
  const form = $('outcome-form');
  const o = chat.outcome || {};
  if (form.dataset.conversationId !== chat.id) {
    for (const r of form.querySelectorAll('input[name=outcome]')) r.checked = r.value === o.outcome;
    $('went-beyond').value = o.went_beyond || '';
    form.dataset.conversationId = chat.id;
  }
  setText($('outcome-saved'), o.outcome || o.went_beyond ? 'Saved.' : '');
  // The assessment of a resolved chat: level, confidence, and the reasons
  // with the customer's words they rest on.
  const a = chat.record && chat.record.assessment;
  $('judged').hidden = chat.open;
  setText($('judged-level'), a ? `${a.level} · ${a.confidence || 'medium'} confidence` : 'Not assessed yet.');
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
  if (!frame.outcome && !frame.went_beyond) { toast('Choose an outcome, or write what went beyond, then Save.', true); return; }
  try {
    const ack = await conn.request(frame);
    chat.outcome = { outcome: ack.outcome, went_beyond: ack.went_beyond };
    if (chat.id === selected) renderOutcome(chat);
    toast('Outcome saved.');
    if (!chat.open) loadRecord(chat);
  } catch (err) {
    toast('The outcome was not saved. ' + explain(err) + '.', true);
  }
});

// ------------------------------------------------------------- transcript
// The log is a live region: messages are added to it one by one and never
// rebuilt while the chat is open, so each is spoken once. Opening another
// chat puts in a new log element, whose first content is not spoken.
function messageNode(chat, m) {
  const role = m.from.role;
  let who = '';
  if (role === 'customer') who = `${chat.visitorName()} · `;
  if (role === 'agent' && m.from.id !== session.agent_id) who = `${m.from.name} · `;
  const node = el('div', { class: 'msg ' + role, dataset: { seq: m.seq, ts: m.ts } },
    role === 'customer' ? el('span', { class: 'vh', text: `${chat.visitorName()} says: ` }) : null,
    role === 'agent' ? el('span', { class: 'vh', text: m.from.id === session.agent_id ? 'You: ' : `${m.from.name}: ` }) : null,
    el('div', { class: 'text', text: m.text }),
    m.attachment ? attachmentView(m.attachment, session.token, () => toast('The file could not be loaded.', true)) : null,
    role === 'system' ? null : el('div', { class: 'meta', 'aria-hidden': 'true' },
      el('span', { class: 'time', text: who + fmtTime(m.ts) }), el('span', { class: 'state' })));
  if (role === 'agent') readState(chat, node);
  return node;
}

function readState(chat, node) {
  const read = Number(node.dataset.seq) <= chat.customerRead;
  node.dataset.state = read ? 'read' : 'sent';
  setText(node.querySelector('.state'), read ? ' · Read' : ' · Sent');
}

function refreshReadState(chat) {
  for (const node of $('log').querySelectorAll('.msg.agent[data-seq]')) readState(chat, node);
}

function noteNode(n) {
  return el('div', { class: 'msg note', dataset: { noteId: n.note_id, ts: n.ts } },
    el('div', { class: 'label', text: `Private note · ${n.from.name || n.from.id} · not visible to the customer` }),
    el('div', { class: 'text', text: n.text }),
    el('div', { class: 'meta', 'aria-hidden': 'true', text: fmtTime(n.ts) }));
}

function pendingNode(chat, o) {
  const node = el('div', { class: 'msg agent pending', dataset: { cmid: o.client_msg_id, state: 'pending' } },
    el('span', { class: 'vh', text: 'You: ' }),
    el('div', { class: 'text', text: o.text }),
    el('div', { class: 'meta', 'aria-hidden': 'true' }, el('span', { class: 'time' }), el('span', { class: 'state', text: 'Sending…' })));
  return node;
}

// Marks a pending message failed, with a way to send it again.
function failPending(chat, o) {
  const node = $('log').querySelector(`.msg.pending[data-cmid="${CSS.escape(o.client_msg_id)}"]`);
  if (!node || chat.id !== selected) return;
  node.classList.add('failed');
  node.dataset.state = 'failed';
  setText(node.querySelector('.state'), 'Not sent: ' + o.failed);
  if (!node.querySelector('button')) {
    const again = el('button', { type: 'button', text: 'Try again' });
    again.addEventListener('click', () => {
      o.failed = null;
      node.classList.remove('failed');
      node.dataset.state = 'pending';
      setText(node.querySelector('.state'), 'Sending…');
      again.remove();
      $('input').focus();
      flushOutbox(chat);
    });
    node.append(again);
  }
  toast(`A message to ${chat.visitorName()} was not sent: ${o.failed}. Use “Try again” next to it.`, true);
}

// Puts a node where it belongs by time (messages by seq among themselves),
// before the messages still being sent; almost always at the end.
function placeInLog(node) {
  const log = $('log');
  const ts = Number(node.dataset.ts);
  const seq = node.dataset.seq != null ? Number(node.dataset.seq) : Infinity;
  let before = log.querySelector('.msg.pending');
  for (let n = (before ? before.previousElementSibling : log.lastElementChild); n; n = n.previousElementSibling) {
    const nts = Number(n.dataset.ts);
    const nseq = n.dataset.seq != null ? Number(n.dataset.seq) : Infinity;
    const later = seq !== Infinity && nseq !== Infinity ? nseq > seq : nts > ts;
    if (!later) break;
    before = n;
  }
  const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.insertBefore(node, before);
  if (atEnd) log.scrollTop = log.scrollHeight;
}

// A message of the selected chat: a pending one of ours becomes it in place.
function placeMessage(chat, m) {
  const log = $('log');
  if (log.dataset.conversationId !== chat.id) return;
  const pending = m.client_msg_id && log.querySelector(`.msg.pending[data-cmid="${CSS.escape(m.client_msg_id)}"]`);
  if (pending) {
    pending.classList.remove('pending', 'failed');
    pending.dataset.seq = String(m.seq);
    pending.dataset.ts = String(m.ts);
    setText(pending.querySelector('.time'), fmtTime(m.ts));
    pending.querySelector('button')?.remove();
    readState(chat, pending);
    return;
  }
  placeInLog(messageNode(chat, m));
}

function renderLog() {
  const chat = selected && chats.get(selected);
  if (!chat) return;
  const old = $('log');
  const log = old.cloneNode(false);
  log.dataset.conversationId = chat.id;
  const items = [...chat.messages.values()].map((m) => ({ ts: m.ts, seq: m.seq, node: () => messageNode(chat, m) }));
  for (const n of chat.notes) items.push({ ts: n.ts, seq: Infinity, node: () => noteNode(n) });
  items.sort((a, b) => (a.seq !== Infinity && b.seq !== Infinity ? a.seq - b.seq : a.ts - b.ts));
  log.append(...items.map((i) => i.node()));
  for (const o of chat.outbox) {
    const node = pendingNode(chat, o);
    log.append(node);
  }
  old.replaceWith(log);
  log.scrollTop = log.scrollHeight;
  for (const o of chat.outbox) if (o.failed) failPending(chat, o);
}

function renderTyping() {
  const chat = selected && chats.get(selected);
  const t = $('typing');
  t.hidden = !(chat && chat.typing);
  setText(t, chat && chat.typing ? `${chat.typing} is typing…` : '');
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
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !suggest.open) { e.preventDefault(); composer.requestSubmit(); }
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
  if (new TextEncoder().encode(text).length > 8000) { toast('The message is too long (8000 bytes at most). Split it into two.', true); return; }
  if (composer.mode.value === 'note') {
    try {
      const ack = await conn.request({ type: 'note.add', conversation_id: chat.id, text });
      $('input').value = '';
      // The note event normally arrives too; add it now in case it comes later.
      if (!chat.notes.some((n) => n.note_id === ack.note_id)) {
        const n = { note_id: ack.note_id, ts: ack.ts, text, from: { role: 'agent', id: session.agent_id, name: session.name } };
        chat.notes.push(n);
        if (chat.id === selected) placeInLog(noteNode(n));
      }
    } catch (ex) {
      toast('The note was not added. ' + explain(ex) + '.', true);
    }
    return;
  }
  $('input').value = '';
  stopTyping(chat);
  const o = { client_msg_id: uuid(), text };
  chat.outbox.push(o);
  if (chat.id === selected) $('log').append(pendingNode(chat, o));
  $('log').scrollTop = $('log').scrollHeight;
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
        o.failed = e.code === 'conflict' ? 'the chat is no longer yours or has ended' : e.code === 'too_large' ? 'it is too long' : explain(e).toLowerCase();
        failPending(chat, o);
        continue;
      }
      chat.outbox = chat.outbox.filter((x) => x !== o);
      if (!chat.messages.has(ack.seq)) {
        addMessage(chat, { conversation_id: chat.id, seq: ack.seq, ts: ack.ts, text: o.text, client_msg_id: o.client_msg_id,
          from: { role: 'agent', id: session.agent_id, name: session.name } });
      }
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
// Resolve: the composer goes, and focus goes to the note that the chat is
// resolved (which says what to do next).
$('resolve').addEventListener('click', async () => {
  const chat = chats.get(selected);
  if (!chat) return;
  $('resolve').disabled = true;
  try {
    await conn.request({ type: 'conversation.resolve', conversation_id: chat.id });
    chat.open = false; chat.status = 'resolved'; chat.closedReason = 'resolved';
    renderLists(); renderChat();
    $('chat-banner').focus();
  } catch (e) {
    toast('The chat was not resolved. ' + (e.code === 'conflict' ? 'It is no longer yours, or already resolved.' : explain(e) + '.'), true);
    $('resolve').disabled = !chat.open;
    $('resolve').focus();
  }
});

// Transfer: a dialog to pick a team or an agent by name (with a search),
// from the directory the server keeps (GET /api/v1/directory).
const transferPicker = new Picker($('transfer-picker'), {
  name: 'transfer-to', searchLabel: 'Find a team or an agent',
  groups: [{ key: 'team', label: 'Teams' }, { key: 'agent', label: 'Agents' }],
  noneText: 'No team or agent matches. Try another name.',
});
const STATUS_WORDS = { online: 'online', away: 'away', offline: 'offline' };
let directoryTimer = null;

async function loadDirectory() {
  try {
    const d = await api('/api/v1/directory', { token: session.token });
    const items = [];
    for (const t of d.teams || []) {
      items.push({ value: 'team:' + t.name, group: 'team', label: t.name,
        detail: (t.open ? '' : 'closed now, ') + (t.agents_available ? `${t.agents_available} free` : t.agents_online ? 'all busy' : 'nobody online') });
    }
    for (const a of d.agents || []) {
      if (a.id === session.agent_id) continue;
      items.push({ value: 'agent:' + a.id, group: 'agent', label: a.name, keywords: (a.teams || []).join(' '),
        detail: `${STATUS_WORDS[a.status] || a.status}, ${a.active} of ${a.capacity} chats` + (a.teams && a.teams.length ? ` · ${a.teams.join(', ')}` : ''),
        disabled: !a.available });
    }
    transferPicker.update(items);
    $('transfer-error').hidden = true;
  } catch (e) {
    $('transfer-error').hidden = false;
    setText($('transfer-error'), 'The list of teams and agents could not be loaded. ' + explain(e) + '.');
  }
}

$('transfer').addEventListener('click', () => {
  const chat = chats.get(selected);
  if (!chat || !chat.open) return;
  setText($('transfer-title'), `Transfer the chat with ${chat.visitorName()}`);
  transferPicker.clear();
  $('transfer-error').hidden = true;
  $('transfer-dialog').showModal();
  transferPicker.search.focus();
  loadDirectory();
  directoryTimer = setInterval(loadDirectory, 10000);
});
$('transfer-cancel').addEventListener('click', () => $('transfer-dialog').close());
$('transfer-dialog').addEventListener('close', () => {
  clearInterval(directoryTimer);
  const chat = chats.get(selected);
  // Back to where the agent was: Transfer, or the note once the chat is gone.
  if (chat && chat.open) $('transfer').focus(); else if (chat) $('chat-banner').focus(); else focusHome();
});
$('transfer-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = chats.get(selected);
  const choice = transferPicker.value();
  const err = $('transfer-error');
  if (!chat) return;
  if (!choice) {
    err.hidden = false;
    setText(err, 'Choose a team or an agent first.');
    transferPicker.search.focus();
    return;
  }
  const [kind, target] = [choice.slice(0, choice.indexOf(':')), choice.slice(choice.indexOf(':') + 1)];
  const label = $('transfer-picker').querySelector(`input[value="${CSS.escape(choice)}"]`).closest('label').querySelector('.picker-name').textContent;
  const frame = { type: 'conversation.transfer', conversation_id: chat.id };
  if (kind === 'team') frame.to_team = target; else frame.to_agent_id = target;
  $('transfer-go').disabled = true;
  chat.transferredTo = label;
  try {
    await conn.request(frame);
    chat.open = false; chat.closedReason = 'transferred to ' + label;
    $('transfer-dialog').close();
    toast(`The chat with ${chat.visitorName()} went to ${label}.`);
    renderLists(); renderChat();
    $('chat-banner').focus();
  } catch (ex) {
    chat.transferredTo = null;
    err.hidden = false;
    setText(err, 'Not transferred. ' + (ex.code === 'conflict' ? `${label} has no free slot or is not online any more. Choose someone else, or a team.`
      : ex.code === 'not_found' ? `${label} no longer exists. Choose again.` : explain(ex) + '.'));
    loadDirectory();
    $('transfer-go').focus();
  } finally {
    $('transfer-go').disabled = false;
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

// The timer ticks every second, so it is not a live region; its state is
// in its words ("Breached", "left"), not in its colour only.
function renderSla() {
  const box = $('sla');
  const chat = selected && chats.get(selected);
  const sla = chat && chat.open ? chat.sla : null;
  if (!sla) {
    box.dataset.state = 'none';
    box.dataset.metric = '';
    if (!box.querySelector('.muted')) box.replaceChildren(el('span', { class: 'muted', text: 'No timer from the server for this chat.' }));
    return;
  }
  const metric = METRIC_WORDS[sla.metric] || sla.metric;
  const left = (sla.dueAt - serverNow()) / 1000;
  let text;
  if (sla.breached) {
    const late = Math.max(sla.lateS, -left, 0);
    text = `Breached · ${mmss(late)} over`;
  } else if (left > 0) {
    text = `${mmss(left)} left`;
  } else {
    text = 'Due now';
  }
  box.dataset.state = sla.breached ? 'breached' : 'warning';
  box.dataset.metric = sla.metric;
  if (!box.querySelector('.metric')) box.replaceChildren(el('span', { class: 'metric' }), el('span', { class: 'left' }));
  setText(box.querySelector('.metric'), metric);
  setText(box.querySelector('.left'), text);
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

// In place: the list is redrawn every few seconds (a follow-up becomes
// overdue), and a "Done" button with focus must keep it.
function renderFollowups() {
  const now = serverNow();
  let overdue = 0;
  syncChildren($('fu-list'), followups, {
    key: (f) => f.id,
    create: (f) => {
      const done = el('button', { type: 'button', text: 'Done', 'aria-label': `Mark follow-up “${f.note}” done` });
      done.addEventListener('click', () => completeFollowup(f, done));
      const li = el('li', { dataset: { followupId: f.id } },
        el('span', { class: 'tag', text: KIND_WORDS[f.kind] || f.kind }), ' ',
        el('span', { class: 'about' }),
        el('span', { class: 'note', text: f.note }),
        el('div', { class: 'row' }, el('span', { class: 'due' }), done));
      fillFollowup(li, f, now);
      return li;
    },
    update: (li, f) => fillFollowup(li, f, now),
  });
  for (const f of followups) if (f.overdue || f.due_at <= now) overdue++;
  $('fu-empty').hidden = followups.length > 0;
  setText($('fu-count'), overdue ? String(overdue) : '');
}

function fillFollowup(li, f, now) {
  const late = f.overdue || f.due_at <= now;
  li.className = late ? 'overdue' : '';
  li.dataset.overdue = late ? 'true' : 'false';
  const chat = f.conversation_id && chats.get(f.conversation_id);
  setText(li.querySelector('.about'), chat ? 'Chat with ' + chat.visitorName() : f.ticket_id ? 'A ticket' : f.conversation_id ? 'A chat' : '');
  setText(li.querySelector('.due'), (late ? 'Overdue · was due ' : 'Due ') + new Date(f.due_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }));
}
setInterval(() => { if (followups.length) renderFollowups(); }, 5000);

async function completeFollowup(f, btn) {
  btn.disabled = true;
  const li = btn.closest('li');
  const next = li && (li.nextElementSibling || li.previousElementSibling);
  try {
    await conn.request({ type: 'followup.complete', followup_id: f.id });
    toast('Follow-up done.');
  } catch (e) {
    if (e.code !== 'conflict') { toast('The follow-up was not marked done. ' + explain(e) + '.', true); btn.disabled = false; btn.focus(); return; }
  }
  await loadFollowups();
  // Its item is gone: focus goes to the next one's Done, or the heading.
  if (!btn.isConnected || btn.disabled) {
    const b = next && next.isConnected && next.querySelector('button');
    if (b) b.focus(); else { $('fu-h').tabIndex = -1; $('fu-h').focus(); }
  }
}

// A follow-up that falls due matters: its message stays until dismissed.
function onFollowupDue(f) {
  const chat = f.conversation_id && chats.get(f.conversation_id);
  const about = chat ? ` (chat with ${chat.visitorName()})` : f.ticket_id ? ' (a ticket)' : '';
  toast(`Follow-up due${about}: ${f.note || ''}`, true);
  if (prefs.sound) beep();
  notify('Follow-up due' + about, f.note || '', 'exceed-fu-' + f.followup_id, () => showView('chats'));
  loadFollowups();
}

$('fu-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const chat = selected && chats.get(selected);
  if (!chat) return;
  const due = new Date($('fu-due').value).getTime();
  const note = $('fu-note').value.trim();
  if (!Number.isFinite(due)) { toast('Pick when the follow-up is due, then add it.', true); $('fu-due').focus(); return; }
  if (!note) { toast('Write what to follow up on, then add it.', true); $('fu-note').focus(); return; }
  $('fu-add').disabled = true;
  try {
    await conn.request({ type: 'followup.create', conversation_id: chat.id, due_at: due, note, kind: $('fu-kind').value });
    $('fu-note').value = '';
    toast('Follow-up added.');
    loadFollowups();
  } catch (ex) {
    toast('The follow-up was not added. ' + (ex.code === 'bad_request' ? 'Check the date (it must be in the future) and the note.' : explain(ex) + '.'), true);
  } finally { $('fu-add').disabled = false; $('fu-note').focus(); }
});
$('fu-due').value = toLocalInput(Date.now() + 3600 * 1000);

// ------------------------------------------------------------------ tickets
let view = 'chats';
let tickets = [];
let openTicket = null;
const TICKET_STATUS = { new: 'New', open: 'Open', pending: 'Pending', on_hold: 'On hold', solved: 'Solved', closed: 'Closed' };

function showView(v) {
  view = v;
  for (const name of ['chats', 'tickets', 'visitors', 'replies']) {
    $(name + '-view').hidden = v !== name;
    $('tab-' + name).setAttribute('aria-pressed', String(v === name));
  }
  if (v === 'tickets') loadTickets();
  if (v === 'visitors' && !visitorsWatched) { visitorsWatched = true; visitorList.start(); }
  if (v === 'replies') replyManager.load();
  const chat = v === 'chats' && selected && chats.get(selected);
  if (chat) sendRead(chat);
}
$('tab-chats').addEventListener('click', () => showView('chats'));
$('tab-tickets').addEventListener('click', () => showView('tickets'));
$('tab-visitors').addEventListener('click', () => showView('visitors'));
$('tab-replies').addEventListener('click', () => showView('replies'));
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
    $('tk-error').textContent = 'Could not load the tickets. ' + explain(e) + '.';
  }
}

// In place, so a ticket event does not take focus off the list.
function renderTickets() {
  syncChildren($('tk-items'), tickets, {
    key: (t) => t.id,
    create: (t) => {
      const btn = el('button', { type: 'button', dataset: { ticketId: t.id } },
        el('span', { class: 'subj' }), el('span', { class: 'info' }, el('span', { class: 'tk-status' }), el('span', { class: 'who' })));
      btn.addEventListener('click', () => openTicketView(t.id, true));
      const li = el('li', {}, btn);
      fillTicket(li, t);
      return li;
    },
    update: fillTicket,
  });
  $('tk-empty').hidden = tickets.length > 0;
}

function fillTicket(li, t) {
  const btn = li.firstChild;
  btn.setAttribute('aria-current', openTicket && openTicket.id === t.id ? 'true' : 'false');
  setText(btn.querySelector('.subj'), t.subject || '(no subject)');
  const st = btn.querySelector('.tk-status');
  st.dataset.status = t.status;
  setText(st, TICKET_STATUS[t.status] || t.status);
  setText(btn.querySelector('.who'), ' · ' + [t.requester && t.requester.name, t.team, t.assignee ? 'assigned to ' + t.assignee.name : 'unassigned'].filter(Boolean).join(' · '));
}

let ticketViewSeq = 0;
async function openTicketView(id, focus) {
  const mine = ++ticketViewSeq;
  try {
    const [t, c] = await Promise.all([
      api('/api/v1/tickets/' + encodeURIComponent(id), { token: session.token }),
      api('/api/v1/tickets/' + encodeURIComponent(id) + '/comments', { token: session.token }),
    ]);
    if (mine !== ticketViewSeq) return; // a newer read is on its way
    const other = !openTicket || openTicket.id !== t.id;
    openTicket = t;
    renderTicket(t, c.items || [], other);
    renderTickets();
    if (focus) { $('tk-subject').tabIndex = -1; $('tk-subject').focus(); }
  } catch (e) {
    toast('Could not open the ticket. ' + explain(e) + '.', true);
  }
}

function commentNode(c) {
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
    c.attachment ? attachmentView(c.attachment, session.token, () => toast('The file could not be loaded.', true)) : null,
    el('div', { class: 'meta', text: `${who} · ${new Date(c.ts).toLocaleString()}` }));
}

// Another ticket gets a new comment log (its content is not spoken); the
// same ticket gets its new comments added.
function renderTicket(t, comments, other) {
  $('tk-detail').hidden = false;
  $('tk-none').hidden = true;
  const sel = $('tk-set-status');
  // Keep what the agent picked unless the ticket or its status changed under it.
  if ($('tk-detail').dataset.ticketId !== t.id || sel.dataset.shown !== t.status) {
    sel.value = t.status === 'new' ? 'open' : t.status;
    sel.dataset.shown = t.status;
  }
  $('tk-detail').dataset.ticketId = t.id;
  setText($('tk-subject'), t.subject || '(no subject)');
  setText($('tk-meta'), [TICKET_STATUS[t.status] || t.status, t.priority, t.team,
    t.requester ? 'from ' + t.requester.name : null, t.assignee ? 'assigned to ' + t.assignee.name : 'unassigned',
    'updated ' + new Date(t.updated_at).toLocaleString()].filter(Boolean).join(' · '));
  const closed = t.status === 'closed';
  for (const x of $('tk-status-form').elements) x.disabled = closed;
  for (const x of $('tk-comment-form').elements) x.disabled = closed;
  let log = $('tk-comments');
  if (other) {
    const fresh = log.cloneNode(false);
    log.replaceWith(fresh);
    log = fresh;
  }
  log.querySelector('p.empty')?.remove();
  syncChildren(log, comments, { key: (c) => c.id, create: commentNode, update: () => {} });
  if (!comments.length) log.append(el('p', { class: 'empty', text: 'No comments yet.' }));
  log.scrollTop = log.scrollHeight;
}

// Uploads a file for a ticket reply (`where`: ticket_id=...): the server
// checks its type, size and name, and may scan it.
async function uploadFile(file, where) {
  let res;
  try {
    res = await fetch(`/api/v1/attachments?${where}&name=${encodeURIComponent(file.name)}`, {
      method: 'POST', body: file,
      headers: { Authorization: 'Bearer ' + session.token, 'Content-Type': 'application/octet-stream' },
    });
  } catch { throw new Error('the server cannot be reached'); }
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error('the file was refused: ' + ((data && data.error && data.error.message) || 'HTTP ' + res.status));
  return data;
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
  const file = $('tk-file').files[0];
  $('tk-send').disabled = true;
  try {
    const body = { text, public: pub };
    if (file) body.attachment_id = (await uploadFile(file, 'ticket_id=' + encodeURIComponent(t.id))).id;
    await api('/api/v1/tickets/' + encodeURIComponent(t.id) + '/comments', { token: session.token, method: 'POST', body });
    $('tk-text').value = '';
    $('tk-file').value = '';
    toast(pub ? 'Reply sent.' : 'Note added.');
    openTicketView(t.id);
    loadTickets();
  } catch (ex) {
    toast('The comment was not added: ' + (ex.code ? explain(ex) : ex.message) + '.', true);
  } finally { $('tk-send').disabled = false; $('tk-text').focus(); }
});
$('tk-status-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = openTicket;
  if (!t) return;
  const status = $('tk-set-status').value;
  try {
    await api('/api/v1/tickets/' + encodeURIComponent(t.id), { token: session.token, method: 'PATCH', body: { status } });
    toast(`The ticket is now ${TICKET_STATUS[status] || status}.`);
  } catch (ex) {
    toast('The status did not change. ' + (ex.code === 'conflict' ? `A ticket cannot go there from ${TICKET_STATUS[t.status] || t.status}, or it changed meanwhile: look at its status and try again.` : explain(ex) + '.'), true);
  }
  openTicketView(t.id);
  loadTickets();
});

let ticketEventTimer = null;
function onTicketEvent(f) {
  if (f.type === 'ticket.created' && f.ticket && view !== 'tickets') toast(`New ticket: ${f.ticket.subject || 'no subject'}`);
  clearTimeout(ticketEventTimer);
  ticketEventTimer = setTimeout(() => {
    if (view === 'tickets') loadTickets();
    if (openTicket && f.ticket && f.ticket.id === openTicket.id) openTicketView(openTicket.id);
  }, 200);
}

// ------------------------------------------- visitors and saved replies
// The live list is watched from the first time its tab is shown (and
// again after every reconnect); saved replies are managed in their tab and
// offered in the reply box as the agent types /shortcut.
let visitorsWatched = false;
const visitorList = new VisitorList($('visitors'), { conn: () => conn, toast, label: 'Visitors on the site' });
const replyManager = new ReplyManager($('replies'), { token: () => session.token, scope: 'personal', toast });
const suggest = new ReplySuggest($('input'), $('reply-suggest'), $('reply-status'), {
  token: () => session.token,
  conversationId: () => selected,
  enabled: () => composer.mode.value === 'reply',
  toast,
});

// ------------------------------------------------------------------- boot
const saved = readJSON(sessionStorage, SESSION_KEY);
if (saved.token && (!saved.expires_at || saved.expires_at > Date.now() + 30000)) {
  session = saved;
  startApp();
} else {
  showLogin();
}
