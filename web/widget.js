/*
 * Exceed customer chat widget.
 *
 * Embed with one tag:
 *   <script src="https://support.example/widget.js" data-team="sales"
 *           data-stage="post_purchase" async></script>
 * Optional: data-user-id, data-user-hash (identity verification), data-name,
 *           data-priority (low|normal|high|urgent), data-lang (the widget's
 *           language, "en" by default: the widget never takes the host
 *           page's, since its words are its own).
 *
 * The shop's page may tell the team who is browsing, and invite them to
 * talk (PROTOCOL.md, "Visitors, invitations and saved replies"). Nothing is
 * reported until the page calls one of these; no cookie is ever set:
 *   Exceed.page()                                   this page (again after a single-page navigation)
 *   Exceed.track('cart', {items, value, currency})  the cart now
 *   Exceed.track('purchase', {order_id})            an order was placed
 *   Exceed.identify({user_id, user_hash, name?, email?})  a signed-in customer
 * A page may call them before the widget has loaded with the stub
 *   window.Exceed = window.Exceed || { q: [], page() { this.q.push(['page']) },
 *     track(...a) { this.q.push(['track', ...a]) }, identify(...a) { this.q.push(['identify', ...a]) } };
 * Only the address's scheme, host and path leave the browser, never its
 * query or fragment.
 *
 * Self-contained (no imports): the UI lives in an open shadow root so the
 * host page's CSS cannot restyle it and its CSS cannot leak out.
 * Wire contract: proto/PROTOCOL.md. Accessibility: docs/ACCESSIBILITY.md.
 */
(function () {
  'use strict';

  const script = document.currentScript ||
    Array.from(document.querySelectorAll('script[src]')).find((s) => /\/widget\.js(\?|#|$)/.test(s.src));
  if (!script) return;
  if (window.__exceedWidget) return; // embedded twice: keep the first
  const BASE = new URL('.', script.src).href.replace(/\/$/, '');
  const WS_URL = BASE.replace(/^http/, 'ws') + '/ws';
  const cfg = {
    team: script.dataset.team || undefined,
    stage: script.dataset.stage || undefined,
    userId: script.dataset.userId || undefined,
    userHash: script.dataset.userHash || undefined,
    name: script.dataset.name || undefined,
    priority: script.dataset.priority || undefined,
    lang: script.dataset.lang || 'en',
  };
  const STORE_KEY = 'exceed.widget.v1:' + BASE;
  const TYPING_EVERY_MS = 3000;   // PROTOCOL: typing true at most every 3 s
  const TYPING_IDLE_MS = 4000;    // we send false after this much silence
  const TYPING_SHOW_MS = 10000;   // a received true ends after 10 s
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;
  const AVAILABILITY_EVERY_MS = 30000; // while queued, how often we ask again
  // Where the panel covers the whole window (a phone, or a desktop zoomed to
  // 200% and more): it is then a modal dialog that keeps focus inside.
  const FULLSCREEN = '(max-width: 480px), (max-height: 500px)';

  // ---------------------------------------------------------------- words
  // Every word the customer sees, in one place, for translators: add a
  // language as another key with the same entries; data-lang picks it. A
  // language without a catalogue falls back to English, and the widget then
  // says (lang="en") that it speaks English.
  const STRINGS = {
    en: {
      launcherOpen: 'Open chat with support',
      launcherClose: 'Close chat with support',
      unread: (n) => `${n} unread`,
      title: 'Chat with us',
      agentFallback: 'Support agent',
      closeChat: 'Close chat',
      logLabel: 'Conversation',
      introHello: 'Hi! How can we help?',
      introUnknown: 'Write your question below. A person from our team answers here, and you can keep browsing while you wait.',
      introOnline: 'Someone from our team is online. Write your question below; you can keep browsing while you wait.',
      introNobodyTicket: 'Nobody from our team is online right now. Leave us a message below: we will ask how to reach you, and answer you here.',
      introNobodyQueue: 'Nobody from our team is online right now. You can write now and keep your place in line: we answer as soon as someone is back.',
      introClosed: (when) => `We are closed right now${when ? ` and open again ${when}` : ''}. Leave us a message below, and we will answer you here when we are back.`,
      subOnline: 'We are online',
      subNobody: 'Nobody is online right now',
      subClosed: (when) => (when ? `Closed · open again ${when}` : 'Closed right now'),
      subEnded: 'Chat ended',
      subTicket: "We'll reply here as soon as we can",
      subTicketReplied: 'replied to your message',
      subHelping: 'is helping you',
      subNext: 'You are next in line',
      subPosition: (n) => `You are number ${n} in line`,
      subWait: (w) => `estimated wait ${w}`,
      subNobodyInLine: 'nobody from our team is online right now',
      subWaiting: 'Waiting for the next available person',
      waitUnderMinute: 'under a minute',
      waitMinutes: (m) => (m === 1 ? 'about 1 minute' : `about ${m} minutes`),
      whenToday: (t) => `today at ${t}`,
      whenTomorrow: (t) => `tomorrow at ${t}`,
      whenDay: (d, t) => `on ${d} at ${t}`,
      connecting: 'Connecting…',
      reconnecting: 'Reconnecting…',
      connLost: 'Connection lost.',
      tryingIn: (s) => `Trying again in ${s} s…`,
      offline: 'You are offline. We will reconnect when your network is back.',
      expired: 'Your chat session expired. Send a message to start again.',
      cannotReach: 'We cannot reach the chat service right now.',
      tooManyVisitors: 'Too many chats were started from your network just now.',
      notVerified: 'This page could not confirm who you are to the chat service. Please reload the page.',
      retryNow: 'Try now',
      yourMessage: 'Your message',
      placeholder: 'Type your message…',
      placeholderTicket: 'Add to your message…',
      sendMessage: 'Send message',
      attachFile: 'Attach a screenshot or a file',
      attachFirst: 'Write your question first; then you can attach a screenshot or a file.',
      attachRefused: (why) => `The file was not sent: ${why}`,
      attachFailed: 'The file could not be sent. Check your connection and try again.',
      attachSending: (name) => `Sending ${name}…`,
      download: (name) => `Download ${name}`,
      imageOf: (name) => `Picture: ${name}`,
      hint: 'Enter sends, Shift+Enter adds a new line.',
      tooLongBytes: 'That message is too long (8000 bytes at most). Please split it into two.',
      says: (name) => `${name} says: `,
      youSaid: 'You said: ',
      agentFallbackName: 'Agent',
      sending: 'Sending…',
      sent: 'Sent',
      read: 'Read',
      notSent: (why) => `Not sent: ${why}`,
      tryAgain: 'Try again',
      failEnded: 'this chat has ended',
      failTooLong: 'the message is too long',
      failSetup: 'the chat is not set up right on this page. Please contact the shop another way',
      failRefused: 'the chat service refused it',
      failServer: 'something went wrong on our side. Please try again in a moment',
      notSentAlert: 'Your message was not sent. Use “Try again” next to it.',
      typing: (name) => `${name || 'The agent'} is typing…`,
      joined: (name) => `${name || 'An agent'} joined the chat.`,
      agentEnded: 'The agent ended the chat.',
      nowTicket: 'Your chat is now a ticket. We will answer you here.',
      ended: 'This chat has ended.',
      newChat: 'Start a new chat',
      // Leave a message (the offline path)
      leaveTitle: 'Leave us a message',
      leaveWhy: 'So we can also reach you outside this chat, tell us your name and email.',
      leaveName: 'Your name',
      leaveEmail: 'Your email',
      leaveEmailHint: 'We only use it to answer you.',
      leaveExtra: 'Anything to add? (optional)',
      leaveSend: 'Send message',
      leaveSkip: 'Not now',
      leaveNeedName: 'Please tell us your name.',
      leaveNeedEmail: 'Please give an email address we can answer to (like name@example.com).',
      leaveLater: 'So we can also reach you outside this chat:',
      leaveLaterLink: 'leave your name and email',
      leaveThanks: (name) => `Thank you${name ? ', ' + name : ''}! We have your message.`,
      leaveThanksMore: (email) => `We'll reply here in this chat, and can write to you at ${email}. You can close this window; your messages stay in this browser.`,
      leaveBody: (name, email, extra) => `Name: ${name}\nEmail: ${email}` + (extra ? `\n\n${extra}` : ''),
      // CSAT
      solvedTitle: 'Did this solve it?',
      solvedYes: 'Yes',
      solvedNo: 'Not really',
      solvedNotedYes: 'Glad it is solved.',
      solvedNotedNo: 'Sorry it is not solved yet: we will look at it.',
      csatTitle: 'How did we do?',
      ratingLegend: 'Rate this chat from 1 to 5',
      ratingLabels: ['Very poor', 'Poor', 'Okay', 'Good', 'Excellent'],
      ratingStar: (n, word) => `${n} of 5 – ${word}`,
      ratingChosen: (n, word) => `${n} of 5 · ${word}`,
      ratingSaved: 'Rating saved. Tell us more if you like.',
      ratingKept: (n) => `Your rating of ${n} of 5 is already saved.`,
      expectLegend: 'Did we exceed, meet, or fall below what you needed?',
      expectBelow: 'Fell below',
      expectMet: 'Met',
      expectExceeded: 'Exceeded',
      comment: 'Anything we could do better? (optional)',
      sendFeedback: 'Send feedback',
      skip: 'Skip',
      csatOffline: 'You are offline right now. Press “Send feedback” again once the connection is back.',
      csatFailed: 'We could not save your answer. Please try again in a moment.',
      thanks: 'Thank you! Your feedback helps us do better than just “good enough”.',
      // Invitations to chat
      inviteRegion: 'Message from our team',
      inviteFrom: (name) => (name ? `${name}, from our team` : 'Our team'),
      inviteSays: (from, text) => `${from}: ${text}`,
      inviteAccept: 'Chat now',
      inviteDismiss: 'No, thanks',
    },
  };
  const LANG = STRINGS[cfg.lang] ? cfg.lang : STRINGS[cfg.lang.split('-')[0]] ? cfg.lang.split('-')[0] : 'en';
  const T = STRINGS[LANG];
  // The language the widget's words are in (lang="…" on its root).
  const LANG_TAG = LANG === cfg.lang || LANG === cfg.lang.split('-')[0] ? cfg.lang : 'en';
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

  // ---------------------------------------------------------------- storage
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE_KEY)) || {}; } catch { return {}; }
  }
  function save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({
        visitor: state.visitor,
        conversationId: state.conversationId,
        outbox: state.outbox.filter((o) => !o.failed),
        csatDone: state.csatDone,
        ticket: state.ticket,
        contact: state.contact,
        invitationId: state.invitationId,
      }));
    } catch { /* storage full or blocked: the chat still works for this page */ }
  }
  const stored = load();

  // ------------------------------------------------------------------ state
  const state = {
    visitor: stored.visitor || null,           // {visitor_id, token, expires_at}
    conversationId: stored.conversationId || null,
    status: null,                              // queued|offered|active|resolved|ticket
    messages: new Map(),                       // seq -> message object
    lastSeq: 0,                                // highest contiguous seq held
    outbox: Array.isArray(stored.outbox) ? stored.outbox : [], // {client_msg_id, text, start?}
    acked: new Map(),                          // client_msg_id -> seq
    readUpTo: 0,                               // the agent read our messages up to this seq
    sentRead: 0,
    agent: null,                               // {id, name}
    queue: null,                               // {position, estimated_wait_s}
    csatAsked: false,
    csatDone: stored.csatDone || null,         // conversation id whose CSAT was answered
    // The offline path: {conversation_id, ticket_id, reason, details_sent}
    // once the server kept our conversation as a ticket (nobody online, or
    // after hours), and the name and email the customer left us.
    ticket: stored.ticket || null,
    contact: stored.contact || null,           // {name, email}
    // The invitation the customer took up (or has on screen): the first
    // message of a chat names it, so the chat carries its rule and team.
    invitationId: stored.invitationId || null,
    // Can the team answer now (GET /api/v1/availability): {open, online,
    // opens_at, when_offline}, or null while unknown (an older server).
    availability: null,
    availabilityAt: 0,
    open: false,
    unread: 0,
    clockSkew: 0,
    conn: 'idle',                              // idle|connecting|online|reconnecting|offline|expired
    historyLoaded: false,
  };

  // --------------------------------------------------------------------- UI
  const host = document.createElement('exceed-chat');
  host.setAttribute('data-exceed-widget', '');
  host.setAttribute('lang', LANG_TAG);
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${styles()}</style>
<div class="invite" role="region" aria-label="${esc(T.inviteRegion)}" hidden>
  <p class="invite-from"></p>
  <p class="invite-text"></p>
  <div class="row"><button type="button" class="primary invite-go">${esc(T.inviteAccept)}</button><button type="button" class="invite-no">${esc(T.inviteDismiss)}</button></div>
</div>
<p class="vh invite-live" aria-live="polite"></p>
<button class="launcher" type="button" aria-expanded="false" aria-controls="xc-panel" aria-label="${esc(T.launcherOpen)}">
  <svg aria-hidden="true" viewBox="0 0 24 24" width="26" height="26"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>
  <span class="badge" hidden aria-hidden="true"></span>
</button>
<section class="panel" id="xc-panel" role="dialog" aria-modal="false" aria-labelledby="xc-title" lang="${esc(LANG_TAG)}" hidden>
  <header>
    <div class="who">
      <h2 id="xc-title">${esc(T.title)}</h2>
      <p class="sub" aria-live="polite"></p>
    </div>
    <button class="close" type="button" aria-label="${esc(T.closeChat)}">
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path fill="currentColor" d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>
    </button>
  </header>
  <div class="conn" hidden><span class="conn-text" role="status"></span> <span class="conn-countdown"></span> <button type="button" class="retry" hidden>${esc(T.retryNow)}</button></div>
  <div class="log" role="log" aria-live="polite" aria-relevant="additions" aria-label="${esc(T.logLabel)}" tabindex="0">
    <div class="intro">
      <p><strong>${esc(T.introHello)}</strong></p>
      <p class="intro-text"></p>
    </div>
  </div>
  <p class="typing" aria-live="polite" hidden></p>
  <div class="leave" hidden></div>
  <div class="ended" hidden>
    <p class="ended-note" tabindex="-1">${esc(T.ended)}</p>
    <div class="csat" hidden></div>
    <button type="button" class="newchat">${esc(T.newChat)}</button>
  </div>
  <form class="composer" autocomplete="off">
    <label class="vh" for="xc-input">${esc(T.yourMessage)}</label>
    <input type="file" id="xc-file" class="vh" tabindex="-1" aria-hidden="true"
      accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain">
    <button type="button" class="attach" aria-label="${esc(T.attachFile)}">
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" d="M20 11.5 12.2 19.3a5 5 0 0 1-7.1-7.1l8.1-8.1a3.3 3.3 0 0 1 4.7 4.7l-8.1 8.1a1.7 1.7 0 0 1-2.4-2.4l7.4-7.4"/></svg>
    </button>
    <textarea id="xc-input" rows="1" maxlength="8000" placeholder="${esc(T.placeholder)}" aria-describedby="xc-hint"></textarea>
    <button type="submit" class="send" aria-label="${esc(T.sendMessage)}">
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path fill="currentColor" d="M3 20.5 21 12 3 3.5V10l12 2-12 2z"/></svg>
    </button>
    <span id="xc-hint" class="vh">${esc(T.hint)}</span>
  </form>
  <p class="err" role="alert" hidden></p>
</section>`;

  const $ = (sel) => root.querySelector(sel);
  const ui = {
    launcher: $('.launcher'), badge: $('.badge'), panel: $('.panel'), close: $('.close'),
    sub: $('.sub'), title: $('#xc-title'), conn: $('.conn'), connText: $('.conn-text'), connCountdown: $('.conn-countdown'), retry: $('.retry'),
    log: $('.log'), introText: $('.intro-text'), typing: $('.typing'), csat: $('.csat'), leave: $('.leave'),
    ended: $('.ended'), endedNote: $('.ended-note'), newchat: $('.newchat'),
    form: $('.composer'), input: $('#xc-input'), send: $('.send'), err: $('.err'),
    file: $('#xc-file'), attach: $('.attach'),
    invite: $('.invite'), inviteFrom: $('.invite-from'), inviteText: $('.invite-text'), inviteGo: $('.invite-go'),
    inviteNo: $('.invite-no'), inviteLive: $('.invite-live'),
  };

  function mount() {
    (document.body || document.documentElement).appendChild(host);
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount, { once: true });

  // ------------------------------------------------------------------ focus
  // The element focus is on inside the widget, or null when it is elsewhere.
  function focusInside() { return root.activeElement; }

  // Moves focus to `el` after a change of state took away what had it (the
  // composer hides when the chat ends, a form is replaced by its thanks):
  // only while the panel is open, and only when focus is in the panel or
  // was dropped (on <body>), never pulling it away from the host page.
  function moveFocus(el) {
    if (!state.open || !el) return;
    const here = focusInside();
    const page = document.activeElement;
    if ((here && ui.panel.contains(here)) || !page || page === document.body || (page === host && !here)) el.focus();
  }

  // The place to put focus on when the panel opens: what the customer does next.
  function entryPoint() {
    const leaveField = ui.leave.querySelector('form input, form textarea');
    if (!ui.leave.hidden && leaveField) return leaveField;
    if (!ui.form.hidden) return ui.input;
    if (!ui.csat.hidden) return ui.csat.querySelector('[tabindex="-1"]') || ui.csat;
    if (!ui.ended.hidden) return ui.newchat.hidden ? ui.endedNote : ui.newchat;
    return ui.input;
  }

  // Full-window panel: a modal dialog; focus stays inside until it closes.
  const fullscreen = window.matchMedia ? window.matchMedia(FULLSCREEN) : { matches: false, addEventListener() {} };
  function modal() { return state.open && fullscreen.matches; }
  function renderModal() { ui.panel.setAttribute('aria-modal', String(modal())); }
  fullscreen.addEventListener('change', renderModal);

  function tabbables() {
    return Array.from(ui.panel.querySelectorAll('button, input, textarea, select, a[href], [tabindex="0"]'))
      .filter((e) => !e.disabled && e.getClientRects().length > 0 && !e.closest('[hidden]'));
  }
  ui.panel.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab' || !modal()) return;
    const list = tabbables();
    if (!list.length) return;
    const here = focusInside();
    const first = list[0];
    const last = list[list.length - 1];
    // From an element outside the Tab order (a heading focused on purpose)
    // the next stop is found by document order.
    const after = list.find((x) => here && (here.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING));
    if (!e.shiftKey && (here === last || (!list.includes(here) && !after))) { e.preventDefault(); first.focus(); }
    else if (e.shiftKey && (here === first || (!list.includes(here) && here && list.every((x) => here.compareDocumentPosition(x) & Node.DOCUMENT_POSITION_FOLLOWING)))) { e.preventDefault(); last.focus(); }
  });
  // Anything that still takes focus out of an open modal panel brings it back.
  document.addEventListener('focusin', (e) => {
    if (modal() && e.target !== host && !host.contains(e.target)) entryPoint().focus();
  });

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute('aria-expanded', String(open));
    host.toggleAttribute('data-open', open);
    renderModal();
    ui.invite.hidden = open || !tracker.invitation;
    if (open) {
      state.unread = 0;
      renderBadge();
      ensureConnected();
      refreshAvailability();
      entryPoint().focus();
      scrollToEnd();
      sendRead();
    } else {
      renderBadge();
      stopTyping();
    }
  }
  ui.launcher.addEventListener('click', () => setOpen(!state.open));
  ui.close.addEventListener('click', () => { setOpen(false); ui.launcher.focus(); });
  ui.panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.stopPropagation(); setOpen(false); ui.launcher.focus(); }
  });
  ui.retry.addEventListener('click', () => { backoffMs = BACKOFF_MIN_MS; connectNow(); });
  ui.newchat.addEventListener('click', () => { resetConversation(); ui.input.focus(); });
  document.addEventListener('visibilitychange', () => { if (!document.hidden) sendRead(); });
  window.addEventListener('online', () => { if (state.conn === 'reconnecting' || state.conn === 'offline') { backoffMs = BACKOFF_MIN_MS; connectNow(); } });

  ui.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); ui.form.requestSubmit(); }
  });
  ui.input.addEventListener('input', () => {
    autosize();
    if (ui.input.value.trim()) noteTyping(); else stopTyping();
  });
  ui.input.addEventListener('blur', stopTyping);
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > 8000) { showError(T.tooLongBytes); return; }
    ui.input.value = '';
    autosize();
    stopTyping();
    queueMessage(text);
  });
  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + 'px';
  }

  function showError(text) {
    ui.err.textContent = text;
    ui.err.hidden = !text;
  }
  function renderBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 9 ? '9+' : String(state.unread);
    ui.launcher.setAttribute('aria-label', (state.open ? T.launcherClose : T.launcherOpen) +
      (state.unread ? ` (${T.unread(state.unread)})` : ''));
  }
  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }
  // Live text is written only when it changes: the same words written again
  // are spoken again.
  function setText(el, text) { if (el.textContent !== text) el.textContent = text; }

  // --------------------------------------------------------- availability
  // Asks whether the team can answer now, so the widget says what is true
  // (online, nobody online, closed until …) instead of a fixed promise.
  let availabilityLoading = null;
  function refreshAvailability(force) {
    if (availabilityLoading) return availabilityLoading;
    if (!force && state.availabilityAt && Date.now() - state.availabilityAt < AVAILABILITY_EVERY_MS) return Promise.resolve();
    const q = cfg.team ? '?team=' + encodeURIComponent(cfg.team) : '';
    availabilityLoading = fetch(BASE + '/api/v1/availability' + q, { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : null))
      .then((a) => { state.availability = a && typeof a.online === 'boolean' ? a : null; })
      .catch(() => { /* unknown: the widget promises nothing */ })
      .finally(() => {
        state.availabilityAt = Date.now();
        availabilityLoading = null;
        renderHeader();
      });
    return availabilityLoading;
  }

  // "today at 09:00", "tomorrow at 09:00", "on Monday at 09:00", in the
  // customer's own time zone.
  function fmtOpening(ms) {
    if (!ms) return '';
    const at = new Date(ms - state.clockSkew);
    const time = at.toLocaleTimeString(LANG_TAG, { hour: '2-digit', minute: '2-digit' });
    const today = new Date();
    const days = Math.round((new Date(at.getFullYear(), at.getMonth(), at.getDate()) -
      new Date(today.getFullYear(), today.getMonth(), today.getDate())) / 86400000);
    if (days <= 0) return T.whenToday(time);
    if (days === 1) return T.whenTomorrow(time);
    return T.whenDay(at.toLocaleDateString(LANG_TAG, { weekday: 'long' }), time);
  }

  function renderHeader() {
    ui.title.textContent = state.agent ? state.agent.name || T.agentFallback : T.title;
    const a = state.availability;
    const nobody = a && a.open && !a.online;
    let sub = '';
    if (state.status === 'resolved') sub = T.subEnded;
    else if (state.status === 'ticket') sub = state.agent ? T.subTicketReplied : T.subTicket;
    else if (state.agent && state.status === 'active') sub = T.subHelping;
    else if (state.conversationId && state.queue) {
      const q = state.queue;
      sub = q.position === 1 ? T.subNext : T.subPosition(q.position);
      if (nobody) sub += ' · ' + T.subNobodyInLine;
      else if (q.estimated_wait_s != null) sub += ' · ' + T.subWait(fmtWait(q.estimated_wait_s));
    } else if (state.conversationId) sub = nobody ? T.subNobody : T.subWaiting;
    else if (!a) sub = '';
    else if (!a.open) sub = T.subClosed(fmtOpening(a.opens_at));
    else sub = a.online ? T.subOnline : T.subNobody;
    setText(ui.sub, sub);
    ui.sub.hidden = !sub;
    let intro = T.introUnknown;
    if (a && !a.open) intro = T.introClosed(fmtOpening(a.opens_at));
    else if (a && !a.online) intro = a.when_offline === 'queue' ? T.introNobodyQueue : T.introNobodyTicket;
    else if (a) intro = T.introOnline;
    setText(ui.introText, intro);
    host.setAttribute('data-availability', !a ? 'unknown' : !a.open ? 'closed' : a.online ? 'online' : 'nobody');
  }
  function fmtWait(s) {
    if (s < 60) return T.waitUnderMinute;
    return T.waitMinutes(Math.round(s / 60));
  }

  // The status region speaks the state once; the countdown to the next try
  // ticks beside it, outside the region, so it is not read every second.
  function renderConn() {
    const c = state.conn;
    let text = '';
    let countdown = '';
    if (c === 'connecting' && state.everConnected) text = T.reconnecting;
    else if (c === 'connecting') text = T.connecting;
    else if (c === 'reconnecting') {
      text = state.connWhy || T.connLost;
      countdown = T.tryingIn(Math.max(1, Math.round(nextRetryIn() / 1000)));
    } else if (c === 'offline') text = T.offline;
    else if (c === 'expired') text = T.expired;
    ui.conn.hidden = !text;
    setText(ui.connText, text);
    setText(ui.connCountdown, countdown);
    ui.retry.hidden = !(c === 'reconnecting' || c === 'offline');
    host.setAttribute('data-conn', c);
  }

  function fmtTime(ts) {
    const d = new Date(ts - state.clockSkew);
    return d.toLocaleTimeString(LANG_TAG, { hour: '2-digit', minute: '2-digit' });
  }

  // One bubble per message, placed by seq; pending (unacked) ones sit at the
  // end. The log announces what is added to it (aria-relevant additions):
  // a bubble is added once and changed in place after, and its delivery
  // state ("Sending…", "Sent", "Read") is shown to the eye only, so nothing
  // is spoken twice.
  function bubbleFor(m, pending) {
    const el = document.createElement('div');
    const mine = m.from ? m.from.role === 'customer' : true;
    const system = m.from && m.from.role === 'system';
    el.className = 'msg ' + (system ? 'system' : mine ? 'mine' : 'theirs');
    if (!pending) el.dataset.seq = String(m.seq);
    if (m.client_msg_id) el.dataset.cmid = m.client_msg_id;
    if (!system) {
      const who = document.createElement('span');
      who.className = 'vh';
      who.textContent = mine ? T.youSaid : T.says((m.from && m.from.name) || T.agentFallbackName);
      el.appendChild(who);
    }
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = m.text;
    el.appendChild(body);
    if (m.attachment) el.appendChild(attachmentView(m.attachment));
    if (!system) {
      const meta = document.createElement('div');
      meta.className = 'meta';
      meta.setAttribute('aria-hidden', 'true');
      meta.innerHTML = '<span class="time"></span><span class="state"></span>';
      el.appendChild(meta);
    }
    updateMeta(el, m, pending);
    return el;
  }
  function updateMeta(el, m, pending) {
    const meta = el.querySelector('.meta');
    if (!meta) return;
    const mine = el.classList.contains('mine');
    setText(meta.querySelector('.time'), m.ts ? fmtTime(m.ts) : '');
    if (!mine) return;
    let st;
    if (pending && pending.failed) st = T.notSent(pending.failed);
    else if (pending) st = T.sending;
    else if (m.seq <= state.readUpTo) st = T.read;
    else st = T.sent;
    el.dataset.state = pending ? (pending.failed ? 'failed' : 'pending') : (m.seq <= state.readUpTo ? 'read' : 'sent');
    setText(meta.querySelector('.state'), (m.ts ? ' · ' : '') + st);
  }

  function insertMessage(m) {
    if (state.messages.has(m.seq)) return false;      // never show a message twice
    state.messages.set(m.seq, m);
    if (m.seq === state.lastSeq + 1) {
      while (state.messages.has(state.lastSeq + 1)) state.lastSeq++;
    }
    // A pending bubble for the same client_msg_id becomes this message, in place.
    let el = null;
    if (m.client_msg_id && m.from && m.from.role === 'customer') {
      el = ui.log.querySelector(`.msg.pending[data-cmid="${CSS.escape(m.client_msg_id)}"]`);
      dropOutbox(m.client_msg_id);
    }
    if (!el && m.seq === 1 && m.from && m.from.role === 'customer') el = ui.log.querySelector('.msg.pending[data-start]');
    if (el) {
      el.classList.remove('pending');
      delete el.dataset.start;
      el.dataset.seq = String(m.seq);
      if (m.client_msg_id) el.dataset.cmid = m.client_msg_id;
      el.querySelector('.again')?.remove();
      updateMeta(el, m, null);
    } else {
      el = bubbleFor(m, null);
    }
    // Its place by seq: before the first later message, else before the
    // pending ones. A bubble already shown moves only when a later message
    // sits before it (a move is spoken as a new message).
    const later = Array.from(ui.log.querySelectorAll('.msg[data-seq]')).find((x) => x !== el && Number(x.dataset.seq) > m.seq);
    if (el.parentNode === ui.log) {
      if (later && (later.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) ui.log.insertBefore(el, later);
    } else {
      ui.log.insertBefore(el, later || ui.log.querySelector('.msg.pending'));
    }
    ui.log.querySelector('.intro')?.setAttribute('hidden', '');
    if (m.from && m.from.role === 'agent') {
      hideTyping();
      if (!state.open || document.hidden) { state.unread++; renderBadge(); }
    }
    scrollToEnd();
    return true;
  }

  function renderPending(o) {
    let el = ui.log.querySelector(`.msg.pending[data-cmid="${CSS.escape(o.client_msg_id)}"]`);
    if (!el) {
      el = bubbleFor({ text: o.text, client_msg_id: o.client_msg_id, attachment: o.attachment }, o);
      el.classList.add('pending');
      if (o.start) el.dataset.start = '';
      ui.log.appendChild(el);
      ui.log.querySelector('.intro')?.setAttribute('hidden', '');
    }
    updateMeta(el, {}, o);
    if (o.failed && !el.querySelector('.again')) {
      const again = document.createElement('button');
      again.type = 'button';
      again.className = 'again';
      again.textContent = T.tryAgain;
      again.addEventListener('click', () => {
        o.failed = null;
        // Focus stays on the message while it is sent again.
        el.tabIndex = -1;
        el.focus();
        again.remove();
        showError('');
        renderPending(o);
        flushOutbox();
      });
      el.appendChild(again);
      showError(T.notSentAlert);
    }
    scrollToEnd();
  }

  function refreshAllMeta() {
    for (const el of ui.log.querySelectorAll('.msg.mine[data-seq]')) {
      const m = state.messages.get(Number(el.dataset.seq));
      if (m) updateMeta(el, m, null);
    }
  }

  function showTyping(name) {
    setText(ui.typing, T.typing(name));
    ui.typing.hidden = false;
    clearTimeout(state.typingHide);
    state.typingHide = setTimeout(hideTyping, TYPING_SHOW_MS);
  }
  function hideTyping() { ui.typing.hidden = true; clearTimeout(state.typingHide); }

  // The end of a chat: the note "This chat has ended", the CSAT while it is
  // asked, and "Start a new chat" once it is answered or skipped.
  function renderEnded() {
    const ended = state.status === 'resolved';
    ui.ended.hidden = !ended;
    ui.newchat.hidden = !ui.csat.hidden && !ui.csat.querySelector('.thanks');
    // While the leave-a-message form is open it is the one place to write.
    ui.form.hidden = ended || !!ui.leave.querySelector('form');
    ui.input.placeholder = state.status === 'ticket' ? T.placeholderTicket : T.placeholder;
  }

  // ------------------------------------------------------- the offline path
  // Nobody can take the chat (no agent of the team online, or after hours):
  // the server keeps the first message as a ticket, posts a system notice
  // (which says so, once) and sends conversation.ticket. We then ask for a
  // name and an email so the team can reach the customer, and anything they
  // want to add. Those go into the ticket as the customer's next message (a
  // public reply on it); public replies from the team come back into this
  // conversation as messages.
  function enterTicket(cid, ticketId, reason) {
    if (cid !== state.conversationId) return;
    const known = state.ticket && state.ticket.conversation_id === cid ? state.ticket : null;
    state.ticket = { conversation_id: cid, ticket_id: ticketId || (known && known.ticket_id) || null,
      reason: reason || (known && known.reason) || null, details_sent: !!(known && known.details_sent),
      skipped: !!(known && known.skipped) };
    state.status = 'ticket';
    state.queue = null;
    save();
    renderHeader();
    if (state.ticket.details_sent || state.ticket.reason === 'agent') renderEnded();
    else if (state.ticket.skipped) showLeaveLater();
    else showLeaveForm();
  }

  function showLeaveForm() {
    if (!ui.leave.hidden && ui.leave.querySelector('form')) return;
    const c = state.contact || {};
    ui.leave.innerHTML = `
<form class="leave-form" aria-labelledby="xc-leave-title" aria-describedby="xc-leave-why" novalidate>
  <h3 id="xc-leave-title">${esc(T.leaveTitle)}</h3>
  <p id="xc-leave-why" class="leave-why">${esc(T.leaveWhy)}</p>
  <label class="field" for="xc-leave-name">${esc(T.leaveName)}</label>
  <input id="xc-leave-name" name="name" autocomplete="name" maxlength="100" required aria-required="true">
  <label class="field" for="xc-leave-email">${esc(T.leaveEmail)}</label>
  <input id="xc-leave-email" name="email" type="email" autocomplete="email" maxlength="254" required aria-required="true" aria-describedby="xc-leave-email-hint">
  <span id="xc-leave-email-hint" class="hint">${esc(T.leaveEmailHint)}</span>
  <label class="field" for="xc-leave-msg">${esc(T.leaveExtra)}</label>
  <textarea id="xc-leave-msg" name="message" rows="3" maxlength="7000"></textarea>
  <p class="leave-err" id="xc-leave-err" role="alert" hidden></p>
  <div class="row"><button type="submit" class="primary">${esc(T.leaveSend)}</button><button type="button" class="skip">${esc(T.leaveSkip)}</button></div>
</form>`;
    const form = ui.leave.querySelector('form');
    form.elements.name.value = c.name || cfg.name || '';
    form.elements.email.value = c.email || '';
    ui.leave.hidden = false;
    renderEnded();
    const focusFirst = !form.elements.name.value ? form.elements.name : form.elements.email.value ? form.elements.message : form.elements.email;
    moveFocus(focusFirst);
    ui.leave.querySelector('.skip').addEventListener('click', () => {
      state.ticket.skipped = true;
      save();
      showLeaveLater();
      ui.input.focus();
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const err = form.querySelector('.leave-err');
      const name = form.elements.name.value.trim();
      const email = form.elements.email.value.trim();
      const extra = form.elements.message.value.trim();
      let bad = null;
      if (!name) bad = form.elements.name;
      else if (!email || !form.elements.email.checkValidity()) bad = form.elements.email;
      for (const f of [form.elements.name, form.elements.email]) {
        f.setAttribute('aria-invalid', String(f === bad));
        if (f === bad) f.setAttribute('aria-errormessage', 'xc-leave-err'); else f.removeAttribute('aria-errormessage');
      }
      if (bad) {
        err.textContent = bad === form.elements.name ? T.leaveNeedName : T.leaveNeedEmail;
        err.hidden = false;
        bad.focus();
        return;
      }
      state.contact = { name, email };
      state.ticket.details_sent = true;
      save();
      // One message into the ticket: the team sees it as the customer's reply.
      queueMessage(T.leaveBody(name, email, extra));
      showLeaveThanks();
    });
  }

  // "Not now": the chat composer comes back, and one button brings the form back.
  function showLeaveLater() {
    if (ui.leave.querySelector('.leave-later')) return;
    ui.leave.innerHTML = `<p class="leave-later">${esc(T.leaveLater)} <button type="button" class="linkish">${esc(T.leaveLaterLink)}</button></p>`;
    ui.leave.hidden = false;
    ui.leave.querySelector('.linkish').addEventListener('click', () => {
      state.ticket.skipped = false;
      save();
      ui.leave.innerHTML = '';
      showLeaveForm();
    });
    renderEnded();
  }

  // The thanks takes the form's place and focus with it (the button that
  // had focus is gone); the composer is back for anything to add.
  function showLeaveThanks() {
    const c = state.contact || {};
    ui.leave.innerHTML = '<div class="leave-done"><p class="thanks" tabindex="-1"></p><p></p></div>';
    const [first, second] = ui.leave.querySelectorAll('p');
    first.textContent = T.leaveThanks(c.name);
    second.textContent = T.leaveThanksMore(c.email);
    ui.leave.hidden = false;
    renderEnded();
    moveFocus(first);
  }

  // ------------------------------------------------------------------ CSAT
  // After the resolve: first the one-tap "Did this solve it?", then the CSAT
  // question. Every part is sent as soon as it is given (the tap, a star),
  // so a customer who answers only that still counts; "Send feedback" sends
  // what is left (the verdict, a comment). The server takes each part once.
  // Focus follows the questions: to "Did this solve it?" when they appear,
  // to the answer noted, to the thanks, and to "Start a new chat" on Skip.
  function showCsat() {
    if (state.csatDone === state.conversationId || state.csatAsked) return;
    state.csatAsked = true;
    const cid = state.conversationId;
    const labels = T.ratingLabels;
    ui.csat.innerHTML = `
<div class="solved-ask" role="group" aria-labelledby="xc-solved-title">
  <h3 id="xc-solved-title" tabindex="-1">${esc(T.solvedTitle)}</h3>
  <div class="row"><button type="button" class="solved-yes" data-solved="true">${esc(T.solvedYes)}</button><button type="button" class="solved-no" data-solved="false">${esc(T.solvedNo)}</button></div>
</div>
<form class="csat-form" aria-labelledby="xc-csat-title">
  <h3 id="xc-csat-title">${esc(T.csatTitle)}</h3>
  <fieldset class="stars">
    <legend>${esc(T.ratingLegend)}</legend>
    <div class="star-row">${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="rating" value="${n}"><span class="star" aria-hidden="true"></span><span class="vh">${esc(T.ratingStar(n, labels[n - 1]))}</span></label>`).join('')}<span class="rating-word" aria-hidden="true"></span></div>
  </fieldset>
  <fieldset class="expect">
    <legend>${esc(T.expectLegend)}</legend>
    <label><input type="radio" name="expectation" value="below"> <span>${esc(T.expectBelow)}</span></label>
    <label><input type="radio" name="expectation" value="met"> <span>${esc(T.expectMet)}</span></label>
    <label><input type="radio" name="expectation" value="exceeded"> <span>${esc(T.expectExceeded)}</span></label>
  </fieldset>
  <label class="cmt">${esc(T.comment)}
    <textarea name="comment" rows="2" maxlength="2000"></textarea>
  </label>
  <p class="csat-saved" role="status"></p>
  <p class="csat-err" role="alert" hidden></p>
  <div class="row"><button type="submit" class="primary">${esc(T.sendFeedback)}</button><button type="button" class="skip">${esc(T.skip)}</button></div>
</form>`;
    ui.csat.hidden = false;
    renderEnded();
    const form = ui.csat.querySelector('form');
    const err = ui.csat.querySelector('.csat-err');
    const saved = ui.csat.querySelector('.csat-saved');
    const stars = form.querySelector('.stars');
    const word = form.querySelector('.rating-word');
    const sent = new Set(); // parts the server has
    let queue = Promise.resolve();
    let sentRating = null;
    // Sends one part of the answer, after any part still on its way.
    function sendPart(part, value) {
      queue = queue.then(async () => {
        if (sent.has(part)) return;
        try {
          await request({ type: 'csat.submit', conversation_id: cid, [part]: value });
          sent.add(part);
        } catch (ex) {
          if (ex.code === 'conflict') { sent.add(part); return; } // answered already (another tab)
          throw ex;
        }
      });
      return queue;
    }
    function failed(ex) {
      err.textContent = ex.code === 'disconnected' ? T.csatOffline : T.csatFailed;
      err.hidden = false;
      queue = Promise.resolve();
    }
    ui.csat.querySelector('.skip').addEventListener('click', () => {
      ui.csat.hidden = true;
      renderEnded();
      ui.newchat.focus();
    });
    ui.csat.querySelectorAll('.solved-ask button').forEach((btn) => btn.addEventListener('click', async () => {
      const solved = btn.dataset.solved === 'true';
      ui.csat.querySelectorAll('.solved-ask button').forEach((b) => { b.disabled = true; });
      try {
        await sendPart('solved', solved);
        const ask = ui.csat.querySelector('.solved-ask');
        ask.innerHTML = '<p class="solved-noted" tabindex="-1"></p>';
        ask.firstChild.textContent = solved ? T.solvedNotedYes : T.solvedNotedNo;
        moveFocus(ask.firstChild);
      } catch (ex) {
        ui.csat.querySelectorAll('.solved-ask button').forEach((b) => { b.disabled = false; });
        btn.focus();
        failed(ex);
      }
    }));
    // One tap on a star counts on its own. Arrow keys move through the stars
    // (each a change), so from the keyboard the rating is sent when focus
    // leaves the stars, or with "Send feedback".
    let pointer = false;
    let chosen = null;
    stars.addEventListener('pointerdown', () => { pointer = true; });
    async function sendRating() {
      if (chosen == null || sentRating != null) return;
      const n = chosen;
      err.hidden = true;
      try {
        await sendPart('rating', n);
        sentRating = n;
        saved.textContent = T.ratingSaved;
      } catch (ex) { failed(ex); }
    }
    form.querySelectorAll('input[name=rating]').forEach((input) => input.addEventListener('change', () => {
      const n = Number(input.value);
      if (sentRating != null && n !== sentRating) {
        // Sent already: the first rating counts, and the stars show it.
        form.querySelector(`input[name=rating][value="${sentRating}"]`).checked = true;
        saved.textContent = T.ratingKept(sentRating);
        return;
      }
      chosen = n;
      stars.dataset.rating = String(n);
      word.textContent = T.ratingChosen(n, labels[n - 1]);
      if (pointer) sendRating();
      pointer = false;
    }));
    stars.addEventListener('focusout', (e) => { if (!stars.contains(e.relatedTarget)) sendRating(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const expectation = fd.get('expectation');
      const comment = String(fd.get('comment') || '').trim();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      err.hidden = true;
      try {
        await sendRating();
        await queue;
        const frame = { type: 'csat.submit', conversation_id: cid };
        if (expectation && !sent.has('expectation')) frame.expectation = expectation;
        if (comment && !sent.has('comment')) frame.comment = comment;
        if (Object.keys(frame).length > 2) {
          try {
            await request(frame);
          } catch (ex) {
            if (ex.code !== 'conflict') throw ex;
          }
        }
        thanks();
      } catch (ex) {
        failed(ex);
        btn.disabled = false;
        btn.focus();
      }
    });
    function thanks() {
      state.csatDone = cid;
      save();
      ui.csat.innerHTML = '<p class="thanks" tabindex="-1"></p>';
      ui.csat.firstChild.textContent = T.thanks;
      renderEnded();
      moveFocus(ui.csat.firstChild);
    }
    moveFocus(ui.csat.querySelector('#xc-solved-title'));
  }

  // ------------------------------------------------------------ connection
  let ws = null;
  let backoffMs = BACKOFF_MIN_MS;
  let retryTimer = null;
  let retryAt = 0;
  let reqSeq = 0;
  const pendingReq = new Map(); // id -> {resolve, reject, frame}
  function nextRetryIn() { return Math.max(0, retryAt - Date.now()); }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  async function ensureVisitor() {
    const v = state.visitor;
    if (v && v.token && (!v.expires_at || v.expires_at - Date.now() > 60000)) return v;
    const body = {};
    if (cfg.name) body.name = cfg.name;
    // Someone who left us their name and email keeps them on a new visitor.
    if (state.contact) { body.name = state.contact.name.slice(0, 100); body.email = state.contact.email.slice(0, 254); }
    const asked = cfg.userId || null;
    if (cfg.userId) body.user_id = cfg.userId;
    if (cfg.userHash) body.user_hash = cfg.userHash;
    const res = await fetch(BASE + '/api/v1/visitors', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'omit',
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) {
      const e = new Error((data.error && data.error.message) || `HTTP ${res.status}`);
      e.status = res.status;
      throw e;
    }
    // A new visitor cannot see an old conversation.
    if (state.visitor && state.visitor.visitor_id !== data.visitor_id) state.conversationId = null;
    state.visitor = Object.assign(data, { user_id: asked });
    save();
    return data;
  }

  function ensureConnected() {
    if (ws || retryTimer || state.conn === 'connecting') return;
    connectNow();
  }

  // One attempt at a time: opening the panel starts one, and a message typed
  // while its visitor is still being made must wait for it rather than make
  // a second visitor and socket (the first socket's answers would then be
  // dropped, and its conversation.start never acked).
  let connecting = null;
  function connectNow() {
    clearTimeout(retryTimer); retryTimer = null;
    if (ws || connecting) return connecting;
    connecting = openSocket().finally(() => { connecting = null; });
    return connecting;
  }

  async function openSocket() {
    state.conn = 'connecting';
    renderConn();
    let visitor;
    try {
      visitor = await ensureVisitor();
    } catch (e) {
      scheduleReconnect(e.status === 429 ? T.tooManyVisitors : e.status === 401 || e.status === 403 ? T.notVerified
        : e.status ? T.cannotReach : null);
      return;
    }
    // The page named a customer (Exceed.identify) while this visitor was
    // being made: make theirs instead.
    if (visitor.user_id !== (cfg.userId || null)) {
      state.visitor = null;
      state.conn = 'idle';
      return openSocket();
    }
    const sock = new WebSocket(WS_URL);
    ws = sock;
    sock.onopen = () => {
      const hello = { type: 'hello', token: visitor.token };
      if (state.conversationId && state.historyLoaded) {
        hello.resume = [{ conversation_id: state.conversationId, after_seq: state.lastSeq }];
      }
      sock.send(JSON.stringify(hello));
    };
    sock.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (ws === sock) onFrame(f);
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      ws = null;
      for (const [, p] of pendingReq) { const e = new Error('disconnected'); e.code = 'disconnected'; p.reject(e); }
      pendingReq.clear();
      hideTyping();
      if (ev.code === 4401) {
        // Token refused: forget it; a new visitor is made on the next message.
        state.visitor = null;
        state.conversationId = null;
        save();
        state.conn = 'expired';
        renderConn();
        return;
      }
      scheduleReconnect();
    };
  }

  // The countdown to the next try is shown, and spoken only when the
  // connection is first lost (the status region hears the first words; the
  // seconds that follow are written to a part it does not announce).
  function scheduleReconnect(why) {
    const jitter = 0.5 + Math.random();           // 50%..150%
    const delay = Math.min(BACKOFF_MAX_MS, backoffMs) * jitter;
    backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
    retryAt = Date.now() + delay;
    state.connWhy = why || null;
    state.conn = navigator.onLine === false ? 'offline' : 'reconnecting';
    renderConn();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { retryTimer = null; connectNow(); }, delay);
    clearInterval(state.countdown);
    state.countdown = setInterval(() => {
      if (state.conn !== 'reconnecting') { clearInterval(state.countdown); return; }
      renderConn();
    }, 1000);
  }

  function send(frame) {
    if (!ws || ws.readyState !== WebSocket.OPEN || state.conn !== 'online') return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function request(frame) {
    return new Promise((resolve, reject) => {
      const id = 'w' + (++reqSeq);
      frame = Object.assign({}, frame, { id });
      if (!send(frame)) { const e = new Error('disconnected'); e.code = 'disconnected'; reject(e); return; }
      pendingReq.set(id, { resolve, reject, frame });
    });
  }

  async function onWelcome(f) {
    state.conn = 'online';
    state.connWhy = null;
    state.everConnected = true;
    backoffMs = BACKOFF_MIN_MS;
    state.clockSkew = f.server_time - Date.now();
    renderConn();
    const open = f.conversations || [];
    if (state.conversationId) {
      const mine = open.find((c) => c.conversation_id === state.conversationId);
      if (mine) {
        state.status = mine.status;
        if (mine.status === 'ticket') enterTicket(mine.conversation_id, mine.ticket_id, null);
      } else if (state.status !== 'resolved') {
        // Not open any more: resolved while we were away (or gone).
        await adoptClosed(state.conversationId);
      }
    } else if (open.length) {
      // Started in another tab, or our conversation.start got through before a drop.
      state.conversationId = open[0].conversation_id;
      state.status = open[0].status;
      state.outbox = state.outbox.filter((o) => !o.start);
      ui.log.querySelector('.msg.pending[data-start]')?.remove();
      save();
      if (open[0].status === 'ticket') enterTicket(open[0].conversation_id, open[0].ticket_id, null);
    }
    if (state.conversationId && !state.historyLoaded) await loadHistory();
    renderHeader();
    renderEnded();
    flushOutbox();
    sendRead();
    reportPage();
  }

  async function adoptClosed(cid) {
    try {
      const res = await fetch(`${BASE}/api/v1/conversations/${encodeURIComponent(cid)}`, {
        headers: { Authorization: 'Bearer ' + state.visitor.token }, credentials: 'omit',
      });
      if (!res.ok) throw new Error('gone');
      const conv = await res.json();
      state.status = conv.status;
      if (conv.agent) state.agent = conv.agent;
      if (conv.status === 'resolved') {
        if (!state.historyLoaded) await loadHistory();
        if (!conv.csat && state.csatDone !== cid) showCsat();
        else state.csatDone = cid;
        return;
      }
    } catch { /* fall through: start over */ }
    resetConversation();
  }

  async function loadHistory() {
    const cid = state.conversationId;
    let after = 0;
    for (let page = 0; page < 50; page++) {
      let ack;
      try { ack = await request({ type: 'history.get', conversation_id: cid, after_seq: after, limit: 200 }); } catch (e) {
        if (e.code === 'not_found' || e.code === 'forbidden') { resetConversation(); }
        return;
      }
      if (cid !== state.conversationId) return;
      for (const m of ack.messages) { insertMessage(m); noteAgentFrom(m); }
      if (!ack.has_more || !ack.messages.length) break;
      after = ack.messages[ack.messages.length - 1].seq;
    }
    state.historyLoaded = true;
    // Our own messages that were stored while we were away need no resend.
    for (const m of state.messages.values()) if (m.client_msg_id) dropOutbox(m.client_msg_id);
  }
  function noteAgentFrom(m) {
    if (m.from && m.from.role === 'agent' && !state.agent) { state.agent = { id: m.from.id, name: m.from.name }; renderHeader(); }
  }

  function onFrame(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'ack': {
        const p = pendingReq.get(f.id);
        if (p) { pendingReq.delete(f.id); p.resolve(f); }
        break;
      }
      case 'error': {
        const p = f.id != null && pendingReq.get(f.id);
        if (p) {
          pendingReq.delete(f.id);
          const e = new Error(f.message || f.code); e.code = f.code; p.reject(e);
        } else if (f.code === 'unauthorized') {
          state.conn = 'expired'; renderConn();
        } else if ((f.code === 'not_found' || f.code === 'forbidden') && state.conversationId && !state.historyLoaded) {
          // resume of a conversation we may no longer see
          resetConversation();
        }
        break;
      }
      case 'message': {
        if (f.conversation_id !== state.conversationId) break;
        const { type, ...m } = f;
        if (m.seq > state.lastSeq + 1 && state.historyLoaded) fillGap();
        insertMessage(m);
        noteAgentFrom(m);
        if (m.from.role === 'agent') sendRead();
        break;
      }
      case 'queue.position':
        if (f.conversation_id !== state.conversationId) break;
        state.queue = { position: f.position, estimated_wait_s: f.estimated_wait_s };
        state.status = 'queued';
        renderHeader();
        // While waiting, whether anyone is online is asked again now and
        // then (GET /api/v1/availability), so the wait is told truthfully.
        refreshAvailability();
        break;
      case 'conversation.assigned':
        if (f.conversation_id !== state.conversationId) break;
        state.agent = f.agent;
        state.status = 'active';
        state.queue = null;
        renderHeader();
        announce(T.joined(f.agent.name));
        break;
      case 'typing':
        if (f.conversation_id !== state.conversationId || !f.from || f.from.role === 'customer') break;
        if (f.state) showTyping(f.from.name); else hideTyping();
        break;
      case 'read':
        if (f.conversation_id !== state.conversationId || !f.from || f.from.role === 'customer') break;
        if (f.seq > state.readUpTo) { state.readUpTo = f.seq; refreshAllMeta(); }
        break;
      case 'conversation.ticket':
        if (f.conversation_id !== state.conversationId) break;
        if (f.reason === 'agent') announce(T.nowTicket);
        enterTicket(f.conversation_id, f.ticket_id, f.reason);
        break;
      case 'conversation.resolved':
        if (f.conversation_id !== state.conversationId) break;
        state.status = 'resolved';
        hideTyping();
        stopTyping();
        renderHeader();
        renderEnded();
        announce(T.agentEnded);
        // The composer that had focus is gone: focus goes to the note that
        // says so (the CSAT questions take it from there when they come).
        moveFocus(ui.endedNote);
        break;
      case 'invitation': showInvitation(f); break;
      case 'invitation.closed': if (tracker.invitation && tracker.invitation.invitation_id === f.invitation_id) hideInvitation(); break;
      case 'csat.request':
        if (f.conversation_id !== state.conversationId) break;
        state.status = 'resolved';
        renderHeader();
        showCsat();
        if (!state.open) { state.unread++; renderBadge(); }
        break;
      default: break; // unknown frames are ignored (forward compatible)
    }
  }

  // A line of the chat's own story ("Ann joined the chat") added to the log.
  function announce(text) {
    const el = document.createElement('div');
    el.className = 'note';
    el.textContent = text;
    ui.log.appendChild(el);
    scrollToEnd();
  }

  async function fillGap() {
    if (state.filling) { state.fillAgain = true; return; }
    state.filling = true;
    try {
      do {
        state.fillAgain = false;
        const cid = state.conversationId;
        const ack = await request({ type: 'history.get', conversation_id: cid, after_seq: state.lastSeq, limit: 200 });
        if (cid === state.conversationId) for (const m of ack.messages) { insertMessage(m); noteAgentFrom(m); }
        if (ack.has_more) state.fillAgain = true;
      } while (state.fillAgain);
    } catch { /* the next reconnect resumes */ }
    state.filling = false;
  }

  // ----------------------------------------------------------- attachments
  // A file is uploaded first (the server checks its type, size and name and
  // may scan it), then sent as a message that names it. Images show as a
  // thumbnail, anything else as a download; both are fetched with the
  // visitor's token (an <img> could not send it), once each.
  const blobs = new Map();
  function fetchBlob(url) {
    if (!blobs.has(url)) {
      blobs.set(url, fetch(BASE + url, { headers: { Authorization: 'Bearer ' + state.visitor.token }, credentials: 'omit' })
        .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
        .then((b) => URL.createObjectURL(b))
        .catch((e) => { blobs.delete(url); throw e; }));
    }
    return blobs.get(url);
  }
  function attachmentView(a) {
    const box = document.createElement('div');
    box.className = 'att';
    if (a.inline) {
      const img = document.createElement('img');
      img.className = 'thumb';
      img.alt = T.imageOf(a.name);
      fetchBlob(a.url).then((u) => { img.src = u; }, () => {});
      box.appendChild(img);
    } else {
      const link = document.createElement('a');
      link.className = 'download';
      link.href = '#';
      link.textContent = T.download(a.name);
      link.addEventListener('click', async (e) => {
        e.preventDefault();
        try {
          const u = await fetchBlob(a.url);
          const save = document.createElement('a');
          save.href = u;
          save.download = a.name;
          save.click();
        } catch { showError(T.attachFailed); }
      });
      box.appendChild(link);
    }
    return box;
  }
  async function attachFile(file) {
    showError('');
    if (!state.conversationId || state.status === 'resolved' || !state.visitor) { showError(T.attachFirst); return; }
    const q = `conversation_id=${encodeURIComponent(state.conversationId)}&name=${encodeURIComponent(file.name)}`;
    ui.attach.disabled = true;
    setText(ui.typing, T.attachSending(file.name));
    ui.typing.hidden = false;
    let res, body;
    try {
      res = await fetch(`${BASE}/api/v1/attachments?${q}`, {
        method: 'POST', body: file, credentials: 'omit',
        headers: { Authorization: 'Bearer ' + state.visitor.token, 'Content-Type': 'application/octet-stream' },
      });
      body = await res.json().catch(() => null);
    } catch {
      showError(T.attachFailed);
      return;
    } finally {
      ui.attach.disabled = false;
      hideTyping();
    }
    if (!res.ok) { showError(T.attachRefused((body && body.error && body.error.message) || res.status)); return; }
    queueMessage(file.name, body);
  }
  ui.attach.addEventListener('click', () => ui.file.click());
  ui.file.addEventListener('change', () => {
    const f = ui.file.files && ui.file.files[0];
    ui.file.value = '';
    if (f) attachFile(f);
  });

  // --------------------------------------------------------------- sending
  function queueMessage(text, attachment) {
    showError('');
    if (state.status === 'resolved') resetConversation();
    const o = { client_msg_id: uuid(), text, start: !state.conversationId && !state.outbox.some((x) => x.start) };
    if (attachment) o.attachment = attachment;
    state.outbox.push(o);
    save();
    renderPending(o);
    if (!ws) connectNow();
    flushOutbox();
  }

  function dropOutbox(cmid) {
    const n = state.outbox.length;
    state.outbox = state.outbox.filter((o) => o.client_msg_id !== cmid);
    if (state.outbox.length !== n) save();
  }

  let flushing = false;
  async function flushOutbox() {
    if (flushing || state.conn !== 'online') return;
    flushing = true;
    try {
      for (const o of state.outbox.slice()) {
        if (o.failed || state.conn !== 'online') continue;
        renderPending(o);
        if (o.start) {
          const frame = { type: 'conversation.start', text: o.text, context: { page_url: pageUrl() } };
          if (state.invitationId) frame.invitation_id = state.invitationId;
          if (cfg.team) frame.team = cfg.team;
          if (cfg.priority) frame.priority = cfg.priority;
          if (cfg.stage) frame.context.stage = cfg.stage;
          let ack;
          try { ack = await request(frame); } catch (e) { if (!handleSendError(o, e)) break; continue; }
          state.conversationId = ack.conversation_id;
          state.status = ack.status;
          state.invitationId = null;
          hideInvitation();
          state.queue = ack.status === 'queued' ? { position: ack.queue_position, estimated_wait_s: null } : null;
          state.historyLoaded = true;
          state.csatAsked = false;
          dropOutbox(o.client_msg_id);
          // seq 1 (our first message) may have arrived before this ack, when
          // we did not know the conversation id yet: fetch it.
          if (!state.messages.has(1)) fillGap();
          save();
          renderHeader();
          if (ack.status === 'ticket') enterTicket(ack.conversation_id, ack.ticket_id, ack.reason);
          continue;
        }
        if (!state.conversationId) continue; // waits for the start
        const frame = { type: 'message.send', conversation_id: state.conversationId, client_msg_id: o.client_msg_id, text: o.text };
        if (o.attachment) frame.attachment_id = o.attachment.id;
        let ack;
        try { ack = await request(frame); } catch (e) { if (!handleSendError(o, e)) break; continue; }
        dropOutbox(o.client_msg_id);
        state.acked.set(o.client_msg_id, ack.seq);
        if (!state.messages.has(ack.seq)) {
          // The ack came before the message event: show it as stored now.
          insertMessage({ conversation_id: ack.conversation_id, seq: ack.seq, ts: ack.ts, text: o.text,
            client_msg_id: o.client_msg_id, from: { role: 'customer', id: state.visitor.visitor_id, name: '' },
            attachment: o.attachment });
        }
      }
    } finally {
      flushing = false;
    }
  }

  // Returns false when the flush loop should stop (we are disconnected).
  function handleSendError(o, e) {
    if (e.code === 'disconnected') return false;   // resent after reconnect, same client_msg_id
    if (e.code === 'unavailable' || e.code === 'rate_limited' || e.code === 'internal') {
      setTimeout(flushOutbox, 2000 + Math.random() * 2000);
      return false;
    }
    if (e.code === 'conflict') {
      o.failed = T.failEnded;
      state.status = 'resolved';
      renderEnded();
    } else if (e.code === 'too_large') o.failed = T.failTooLong;
    // A team the server does not know (data-team) is the shop's set-up, not
    // something the customer can mend: said so, with what they can do.
    else if (o.start && (e.code === 'not_found' || e.code === 'bad_request')) o.failed = T.failSetup;
    else if (e.code === 'forbidden' || e.code === 'unauthorized' || e.code === 'bad_request') o.failed = T.failRefused;
    else o.failed = T.failServer;
    save();
    renderPending(o);
    return true;
  }

  function resetConversation() {
    state.conversationId = null;
    state.status = null;
    state.messages.clear();
    state.lastSeq = 0;
    state.readUpTo = 0;
    state.sentRead = 0;
    state.agent = null;
    state.queue = null;
    state.csatAsked = false;
    state.historyLoaded = false;
    state.ticket = null;
    ui.leave.hidden = true;
    ui.leave.innerHTML = '';
    state.outbox = state.outbox.filter((o) => !o.failed);
    for (const el of ui.log.querySelectorAll('.msg:not(.pending), .note')) el.remove();
    ui.log.querySelector('.intro')?.removeAttribute('hidden');
    ui.csat.hidden = true;
    ui.csat.innerHTML = '';
    showError('');
    save();
    renderHeader();
    renderEnded();
  }

  // ------------------------------------------------------- typing and read
  let typingSentAt = 0;
  let typingIdle = null;
  let typingOn = false;
  function noteTyping() {
    // A ticket has no agent at the keyboard: nobody to tell.
    if (!state.conversationId || state.status === 'resolved' || state.status === 'ticket') return;
    const now = Date.now();
    if (!typingOn || now - typingSentAt > TYPING_EVERY_MS) {
      if (send({ type: 'typing', conversation_id: state.conversationId, state: true })) { typingSentAt = now; typingOn = true; }
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, TYPING_IDLE_MS);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (!typingOn) return;
    typingOn = false;
    if (state.conversationId) send({ type: 'typing', conversation_id: state.conversationId, state: false });
  }

  function sendRead() {
    if (!state.open || document.hidden || !state.conversationId) return;
    let top = 0;
    for (const m of state.messages.values()) if (m.from && m.from.role !== 'customer' && m.seq > top) top = m.seq;
    if (top > state.sentRead && send({ type: 'read', conversation_id: state.conversationId, seq: top })) state.sentRead = top;
  }

  // ------------------------------------------------ visits and invitations
  // Nothing of the visit is reported until the shop's page calls Exceed.*;
  // then this page (on every new socket, so the server counts this tab),
  // the shop's facts once the page is in, and invitations are shown beside
  // the button as a message from the team, never taking focus.
  const tracker = { on: false, paged: false, facts: [], invitation: null };

  // Scheme, host and path: the query and fragment never leave the browser.
  function pageUrl() { return (location.origin + location.pathname).slice(0, 2048); }
  function referrerUrl() {
    try {
      const r = new URL(document.referrer);
      return /^https?:$/.test(r.protocol) ? (r.origin + r.pathname).slice(0, 2048) : '';
    } catch { return ''; }
  }

  function startTracking() {
    if (tracker.on) return;
    tracker.on = true;
    ensureConnected();
  }

  function reportPage() {
    if (!tracker.on || state.conn !== 'online') return;
    const frame = { type: 'visitor.page', url: pageUrl(), title: String(document.title || '').slice(0, 300) };
    const ref = referrerUrl();
    if (ref) frame.referrer = ref;
    request(frame).then((ack) => {
      tracker.paged = true;
      reportFacts();
      if (ack.invitation) showInvitation(ack.invitation);
    }, (e) => {
      // Switched off on the server, or refused: report nothing more.
      if (e.code === 'forbidden' || e.code === 'bad_request') tracker.on = false;
    });
  }

  function reportFacts() {
    if (!tracker.paged) return;
    while (tracker.facts.length && state.conn === 'online') {
      const { frame, done } = tracker.facts.shift();
      // A refused fact is dropped: the page reports the next.
      request(frame).then(done, done);
    }
  }

  function track(event, data) {
    let frame;
    if (event === 'cart') {
      const d = data || {};
      const cart = { items: Math.max(0, Math.round(Number(d.items) || 0)), value: Math.max(0, Number(d.value) || 0),
        currency: String(d.currency || '').toUpperCase() };
      if (!/^[A-Z]{3}$/.test(cart.currency)) return Promise.resolve();
      frame = { type: 'visitor.track', event: 'cart', data: cart };
      // Only the latest cart matters.
      for (const f of tracker.facts.filter((x) => x.frame.event === 'cart')) f.done();
      tracker.facts = tracker.facts.filter((x) => x.frame.event !== 'cart');
    } else if (event === 'purchase') {
      frame = { type: 'visitor.track', event: 'purchase' };
    } else {
      return Promise.resolve();
    }
    // Settles once the server has it (or refused it): a page about to
    // leave may wait for that.
    const told = new Promise((done) => tracker.facts.push({ frame, done }));
    startTracking();
    reportFacts();
    return told;
  }

  function identify(who) {
    const id = who && who.user_id != null ? String(who.user_id) : '';
    if (!id) return;
    const changed = cfg.userId !== id;
    cfg.userId = id;
    cfg.userHash = who.user_hash != null ? String(who.user_hash) : undefined;
    if (who.name) cfg.name = String(who.name).slice(0, 100);
    if (changed && state.visitor && state.visitor.user_id !== id) {
      // Another person on this browser: a new visitor, never the last one's chats.
      state.visitor = null;
      state.conversationId = null;
      save();
      if (ws) ws.close(1000, 'identity');
    }
    startTracking();
  }

  function showInvitation(inv) {
    if (!inv || state.conversationId) return;
    tracker.invitation = inv;
    state.invitationId = inv.invitation_id;
    save();
    const from = T.inviteFrom(inv.from && inv.from.role === 'agent' ? inv.from.name : '');
    setText(ui.inviteFrom, from);
    setText(ui.inviteText, inv.text);
    ui.invite.hidden = state.open;
    // Spoken once, politely; focus stays where the customer has it.
    setText(ui.inviteLive, T.inviteSays(from, inv.text));
  }

  function hideInvitation() {
    const had = ui.invite.contains(focusInside());
    tracker.invitation = null;
    ui.invite.hidden = true;
    setText(ui.inviteLive, '');
    if (had) ui.launcher.focus();
  }

  async function answerInvitation(accepted) {
    const inv = tracker.invitation;
    if (!inv) return;
    const type = accepted ? 'invitation.accept' : 'invitation.dismiss';
    hideInvitation();
    if (!accepted) { state.invitationId = null; save(); }
    try { await request({ type, invitation_id: inv.invitation_id }); } catch { /* the chat starts all the same */ }
    if (accepted) setOpen(true);
  }
  ui.inviteGo.addEventListener('click', () => answerInvitation(true));
  ui.inviteNo.addEventListener('click', () => answerInvitation(false));
  ui.invite.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); answerInvitation(false); } });

  // ------------------------------------------------------------------ boot
  renderHeader();
  renderConn();
  renderEnded();
  for (const o of state.outbox) renderPending(o);
  // A returning visitor with an open chat (or unsent messages) reconnects at
  // once, so replies arrive while the panel is closed; others connect when
  // they first open the panel.
  if (state.visitor && (state.conversationId || state.outbox.length)) connectNow();

  // The shop's page talks to the widget through window.Exceed; calls made
  // before it loaded wait in window.Exceed.q.
  const queued = window.Exceed && Array.isArray(window.Exceed.q) ? window.Exceed.q : [];
  window.Exceed = {
    page() { startTracking(); reportPage(); },
    track,
    identify,
    open: () => setOpen(true),
  };
  for (const [method, ...args] of queued) if (typeof window.Exceed[method] === 'function') window.Exceed[method](...args);

  window.__exceedWidget = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    get state() { return { conn: state.conn, conversationId: state.conversationId, status: state.status, lastSeq: state.lastSeq, outbox: state.outbox.length, ticketId: state.ticket ? state.ticket.ticket_id : null, tracking: tracker.on, paged: tracker.paged, invitationId: tracker.invitation ? tracker.invitation.invitation_id : null }; },
  };

  // ------------------------------------------------------------------- CSS
  // Colours are chosen for WCAG 2.1 AA: text at least 4.5:1 on its
  // background, field borders and the focus ring at least 3:1. The focus
  // ring is two-tone (dark outside, white inside), so it shows on the blue
  // header, on white and on whatever page the launcher sits on.
  function styles() {
    return `
:host { all: initial !important; position: fixed !important; right: 20px !important; bottom: 20px !important;
  z-index: 2147483000 !important; display: block !important; width: auto !important; height: auto !important;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif !important; color: #1b2230 !important; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.vh { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; margin: -1px; padding: 0; border: 0; }
button { font: inherit; color: inherit; cursor: pointer; border: 0; background: none; margin: 0; padding: 0;
  text-transform: none; letter-spacing: normal; box-shadow: none; min-width: 0; width: auto; height: auto; }
:focus-visible, .expect input:focus-visible + span, .stars input:focus-visible + .star {
  outline: 3px solid #14235e; outline-offset: 2px; box-shadow: 0 0 0 2px #fff; }
.expect input:focus-visible, .stars input:focus-visible { outline: none; box-shadow: none; }
[tabindex="-1"]:focus-visible { outline-offset: 1px; }
.launcher { position: relative; width: 60px; height: 60px; border-radius: 50%; background: #2b50d8; color: #fff;
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(18, 33, 90, .35); transition: transform .15s; margin-left: auto; }
.launcher:hover { transform: translateY(-2px); background: #2343bd; }
.launcher:focus-visible { box-shadow: 0 0 0 2px #fff, 0 6px 20px rgba(18, 33, 90, .35); }
.badge { position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px;
  background: #c0223d; color: #fff; font-size: 12px; font-weight: 700; line-height: 20px; text-align: center; }
.invite { position: absolute; right: 0; bottom: 72px; width: 300px; max-width: calc(100vw - 40px); background: #fff; color: #1b2230;
  border: 1px solid #c9cfdd; border-radius: 14px; border-bottom-right-radius: 4px; padding: 12px 14px; box-shadow: 0 8px 28px rgba(18, 33, 90, .22); }
.invite p { margin: 0 0 6px; }
.invite-from { font-size: 12.5px; font-weight: 600; color: #364055; }
.invite-text { font-size: 14px; overflow-wrap: anywhere; }
.invite .row { margin-top: 10px; }
.invite-no { padding: 8px 10px; color: #364055; text-decoration: underline; }
.panel { position: absolute; right: 0; bottom: 72px; width: 370px; height: min(600px, calc(100vh - 110px));
  display: flex; flex-direction: column; background: #fff; border-radius: 14px; overflow-x: hidden; overflow-y: auto;
  box-shadow: 0 12px 40px rgba(18, 33, 90, .28); border: 1px solid #dfe3ee; }
header { display: flex; align-items: center; gap: 8px; padding: 14px 14px 12px 18px; background: #2b50d8; color: #fff; flex: none; }
.who { flex: 1; min-width: 0; }
h2 { margin: 0; font-size: 16px; font-weight: 650; overflow-wrap: anywhere; color: #fff; }
.sub { margin: 2px 0 0; font-size: 12.5px; color: #fff; }
.close { width: 36px; height: 36px; border-radius: 8px; display: grid; place-items: center; color: #fff; flex: none; }
.close:hover { background: rgba(255,255,255,.15); }
.conn { padding: 7px 14px; background: #fff5d6; color: #5b4300; font-size: 12.5px; border-bottom: 1px solid #f0dc9c; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; flex: none; }
.conn-countdown { flex: 1; }
.retry { text-decoration: underline; font-weight: 600; color: #5b4300; }
/* The log keeps a readable height whatever else is open (the CSAT, the
   leave-a-message form, a 200% zoom): past that the whole panel scrolls. */
.log { flex: 1 1 0; min-height: 12em; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px; background: #f6f7fb; }
.intro { background: #fff; border: 1px solid #e3e6ef; border-radius: 12px; padding: 10px 12px; color: #364055; }
.intro p { margin: 0 0 4px; } .intro p:last-child { margin: 0; }
.msg { max-width: 82%; padding: 8px 11px 5px; border-radius: 14px; word-wrap: break-word; overflow-wrap: anywhere; white-space: pre-wrap; }
.msg .text { white-space: pre-wrap; }
.msg .att { margin-top: 6px; }
.msg .thumb { display: block; max-width: 180px; max-height: 140px; border-radius: 6px; border: 1px solid #c9cfdc; background: #fff; }
.msg .download { color: inherit; text-decoration: underline; }
.composer .attach { flex: none; background: none; border: 1px solid #767f92; border-radius: 10px; padding: 6px; color: #1b2230; cursor: pointer; }
.composer .attach:focus-visible { outline: 3px solid #2b50d8; outline-offset: 2px; }
.composer .attach:disabled { opacity: .5; cursor: default; }
.msg .meta { font-size: 11.5px; margin-top: 2px; text-align: right; }
.mine { align-self: flex-end; background: #2b50d8; color: #fff; border-bottom-right-radius: 4px; }
.mine .meta { color: #fff; }
.mine.pending { background: #2343bd; }
.mine[data-state="failed"] { background: #fbe4e8; color: #7a1024; border: 1px solid #a1122e; }
.mine[data-state="failed"] .meta { color: #7a1024; }
.theirs { align-self: flex-start; background: #fff; border: 1px solid #c9cfdd; border-bottom-left-radius: 4px; }
.theirs .meta { color: #4d5669; }
.system, .note { align-self: center; max-width: 95%; background: none; color: #4d5669; font-size: 12.5px; text-align: center; padding: 2px 6px; }
.again { margin-top: 4px; text-decoration: underline; font-size: 12.5px; font-weight: 600; }
.typing { margin: 0; padding: 4px 16px 6px; font-size: 12.5px; color: #4d5669; background: #f6f7fb; font-style: italic; flex: none; }
.composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid #e3e6ef; background: #fff; margin: 0; flex: none; }
textarea { flex: 1; resize: none; font: inherit; color: #1b2230; background: #fff; border: 1px solid #767f92; border-radius: 10px;
  padding: 9px 11px; min-height: 40px; max-height: 120px; line-height: 1.4; margin: 0; width: auto; box-shadow: none; }
textarea:focus { border-color: #2b50d8; }
.send { width: 40px; height: 40px; border-radius: 10px; background: #2b50d8; color: #fff; display: grid; place-items: center; flex: none; }
.send:hover { background: #2343bd; }
.err { margin: 0; padding: 6px 12px; background: #fbe4e8; color: #7a1024; font-size: 12.5px; flex: none; }
.ended { padding: 12px 14px; border-top: 1px solid #e3e6ef; background: #fff; flex: none; }
.ended-note { margin: 0 0 8px; color: #364055; text-align: center; font-weight: 600; }
.newchat, .primary { background: #2b50d8; color: #fff; padding: 8px 14px; border-radius: 8px; font-weight: 600; }
.newchat { display: block; margin: 8px auto 0; }
.skip { padding: 8px 10px; color: #364055; text-decoration: underline; }
.csat { padding: 4px 0 0; }
.csat h3 { margin: 0 0 6px; font-size: 15px; }
fieldset { border: 0; margin: 0 0 8px; padding: 0; min-width: 0; }
legend { padding: 0; margin-bottom: 4px; font-weight: 600; font-size: 13px; color: #2a3244; }
.star-row { display: flex; align-items: center; flex-wrap: wrap; gap: 2px; }
.stars label { display: inline-block; cursor: pointer; }
.stars input, .expect input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
/* Unchosen stars are outlined, chosen ones filled: the shape says it, not
   only the colour; the word beside them says which. */
.star { display: inline-block; font-size: 28px; line-height: 1; color: #4d5669; padding: 0 2px; border-radius: 4px; }
.star::before { content: "☆"; }
.stars:has(input:checked) .star { color: #a34a00; }
.stars:has(input:checked) .star::before { content: "★"; }
.stars label:has(input:checked) ~ label .star { color: #4d5669; }
.stars label:has(input:checked) ~ label .star::before { content: "☆"; }
.rating-word { margin-left: 6px; font-size: 13px; font-weight: 600; color: #2a3244; }
.expect { display: flex; gap: 6px; flex-wrap: wrap; }
.expect legend { width: 100%; }
.expect label { flex: 1; min-width: 88px; }
.expect span { display: block; text-align: center; padding: 7px 6px; border: 1px solid #767f92; border-radius: 8px; cursor: pointer; font-size: 13px; }
.expect input:checked + span { background: #2b50d8; border-color: #14235e; color: #fff; font-weight: 600; }
.expect input:checked + span::before { content: "✓ "; }
.cmt { display: block; font-size: 13px; color: #2a3244; }
.cmt textarea { display: block; width: 100%; margin-top: 4px; }
.csat-err { color: #a1122e; margin: 4px 0; font-size: 12.5px; }
.solved-ask { margin: 0 0 10px; padding-bottom: 10px; border-bottom: 1px solid #e3e6ef; }
.solved-ask .row { display: flex; gap: 8px; }
.solved-ask button { flex: 1; padding: 8px; border: 1px solid #767f92; border-radius: 8px; background: #fff; cursor: pointer; font: inherit; }
.solved-ask button:hover { border-color: #2b50d8; }
.solved-noted, .csat-saved { margin: 0; color: #1e6b3a; font-size: 13px; }
.csat-saved:empty { display: none; }
.row { display: flex; align-items: center; gap: 8px; margin-top: 8px; flex-wrap: wrap; }
.thanks { margin: 0; color: #1e6b3a; font-weight: 600; }
.leave { border-top: 1px solid #e3e6ef; background: #fff; padding: 12px 14px; flex: none; }
.leave h3 { margin: 0 0 4px; font-size: 15px; }
.leave-why { margin: 0 0 8px; color: #364055; font-size: 13px; }
.leave .field { display: block; font-size: 13px; font-weight: 600; color: #2a3244; margin: 8px 0 3px; }
.leave input, .leave textarea { display: block; width: 100%; font: inherit; color: #1b2230; background: #fff; border: 1px solid #767f92;
  border-radius: 8px; padding: 8px 10px; margin: 0; min-height: 38px; box-shadow: none; }
.leave input:focus, .leave textarea:focus { border-color: #2b50d8; }
.leave input[aria-invalid="true"] { border-color: #a1122e; border-width: 2px; }
.leave .hint { display: block; font-size: 12px; color: #4d5669; margin-top: 2px; }
.leave-err { color: #a1122e; margin: 6px 0 0; font-size: 12.5px; }
.leave-done p { margin: 0 0 4px; font-size: 13px; color: #2a3244; }
.leave-later { margin: 0; font-size: 13px; color: #364055; }
.linkish { text-decoration: underline; font-weight: 600; color: #2343bd; }
.leave-done p.thanks { color: #1e6b3a; }
/* A phone, or a desktop zoomed to 200% and more: the panel takes the whole
   window and is a modal dialog (widget.js keeps focus inside). */
@media ${FULLSCREEN} {
  :host { right: 12px !important; bottom: 12px !important; }
  :host([data-open]) { left: 0 !important; right: 0 !important; top: 0 !important; bottom: 0 !important; }
  :host([data-open]) .launcher { display: none; }
  .panel { position: fixed; inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; bottom: 0; }
}
@media (prefers-reduced-motion: reduce) { .launcher { transition: none; } }
@media (forced-colors: active) { .star::before { forced-color-adjust: auto; } .mine, .theirs { border: 1px solid CanvasText; } }
`;
  }
})();
