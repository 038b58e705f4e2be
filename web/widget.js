/*
 * Exceed customer chat widget.
 *
 * Embed with one tag:
 *   <script src="https://support.example/widget.js" data-team="sales"
 *           data-stage="post_purchase" async></script>
 * Optional: data-user-id, data-user-hash (identity verification), data-name,
 *           data-priority (low|normal|high|urgent).
 *
 * Self-contained (no imports): the UI lives in an open shadow root so the
 * host page's CSS cannot restyle it and its CSS cannot leak out.
 * Wire contract: proto/PROTOCOL.md.
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
  };
  const STORE_KEY = 'exceed.widget.v1:' + BASE;
  const TYPING_EVERY_MS = 3000;   // PROTOCOL: typing true at most every 3 s
  const TYPING_IDLE_MS = 4000;    // we send false after this much silence
  const TYPING_SHOW_MS = 10000;   // a received true ends after 10 s
  const BACKOFF_MIN_MS = 1000;
  const BACKOFF_MAX_MS = 30000;

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
      }));
    } catch { /* storage full or blocked: the chat still works for this page */ }
  }
  const stored = load();

  // ------------------------------------------------------------------ state
  const state = {
    visitor: stored.visitor || null,           // {visitor_id, token, expires_at}
    conversationId: stored.conversationId || null,
    status: null,                              // queued|offered|active|resolved
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
    open: false,
    unread: 0,
    clockSkew: 0,
    conn: 'idle',                              // idle|connecting|online|reconnecting|offline|expired
    historyLoaded: false,
  };

  // --------------------------------------------------------------------- UI
  const host = document.createElement('exceed-chat');
  host.setAttribute('data-exceed-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${styles()}</style>
<button class="launcher" type="button" aria-expanded="false" aria-controls="xc-panel" aria-label="Open chat with support">
  <svg aria-hidden="true" viewBox="0 0 24 24" width="26" height="26"><path fill="currentColor" d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>
  <span class="badge" hidden aria-hidden="true"></span>
</button>
<section class="panel" id="xc-panel" role="dialog" aria-modal="false" aria-labelledby="xc-title" hidden>
  <header>
    <div class="who">
      <h2 id="xc-title">Chat with us</h2>
      <p class="sub" aria-live="polite"></p>
    </div>
    <button class="close" type="button" aria-label="Close chat">
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path fill="currentColor" d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>
    </button>
  </header>
  <div class="conn" role="status" aria-live="polite" hidden><span class="conn-text"></span> <button type="button" class="retry" hidden>Retry now</button></div>
  <div class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0">
    <div class="intro">
      <p><strong>Hi! How can we help?</strong></p>
      <p>Write your question below. A real person will answer, and you can keep browsing while you wait.</p>
    </div>
  </div>
  <p class="typing" aria-live="polite" hidden></p>
  <div class="csat" hidden></div>
  <div class="leave" hidden></div>
  <div class="ended" hidden>
    <p>This chat has ended.</p>
    <button type="button" class="newchat">Start a new chat</button>
  </div>
  <form class="composer" autocomplete="off">
    <label class="vh" for="xc-input">Your message</label>
    <textarea id="xc-input" rows="1" maxlength="8000" placeholder="Type your message…" aria-describedby="xc-hint"></textarea>
    <button type="submit" class="send" aria-label="Send message">
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path fill="currentColor" d="M3 20.5 21 12 3 3.5V10l12 2-12 2z"/></svg>
    </button>
    <span id="xc-hint" class="vh">Enter sends, Shift+Enter adds a new line.</span>
  </form>
  <p class="err" role="alert" hidden></p>
</section>`;

  const $ = (sel) => root.querySelector(sel);
  const ui = {
    launcher: $('.launcher'), badge: $('.badge'), panel: $('.panel'), close: $('.close'),
    sub: $('.sub'), title: $('#xc-title'), conn: $('.conn'), connText: $('.conn-text'), retry: $('.retry'),
    log: $('.log'), typing: $('.typing'), csat: $('.csat'), leave: $('.leave'), ended: $('.ended'), newchat: $('.newchat'),
    form: $('.composer'), input: $('#xc-input'), send: $('.send'), err: $('.err'),
  };

  function mount() {
    (document.body || document.documentElement).appendChild(host);
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount, { once: true });

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute('aria-expanded', String(open));
    ui.launcher.setAttribute('aria-label', open ? 'Close chat with support' : 'Open chat with support');
    host.toggleAttribute('data-open', open);
    if (open) {
      state.unread = 0;
      renderBadge();
      ensureConnected();
      ui.input.focus();
      scrollToEnd();
      sendRead();
    } else {
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
    if (new TextEncoder().encode(text).length > 8000) { showError('That message is too long (8000 bytes at most). Please split it.'); return; }
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
    ui.launcher.setAttribute('aria-label', (state.open ? 'Close' : 'Open') + ' chat with support' +
      (state.unread ? ` (${state.unread} unread)` : ''));
  }
  function scrollToEnd() { ui.log.scrollTop = ui.log.scrollHeight; }

  function renderHeader() {
    ui.title.textContent = state.agent ? state.agent.name || 'Support agent' : 'Chat with us';
    let sub = '';
    if (state.status === 'resolved') sub = 'Chat ended';
    else if (state.status === 'ticket') sub = state.agent ? 'replied to your message' : "We'll reply here as soon as we can";
    else if (state.agent && state.status === 'active') sub = 'is helping you';
    else if (state.conversationId && state.queue) {
      const q = state.queue;
      sub = q.position === 1 ? 'You are next in line' : `You are number ${q.position} in line`;
      if (q.estimated_wait_s != null) sub += ` · estimated wait ${fmtWait(q.estimated_wait_s)}`;
    } else if (state.conversationId) sub = 'Waiting for the next available agent';
    else sub = 'We usually answer within minutes';
    ui.sub.textContent = sub;
  }
  function fmtWait(s) {
    if (s < 60) return 'under a minute';
    const m = Math.round(s / 60);
    return m === 1 ? 'about 1 minute' : `about ${m} minutes`;
  }

  function renderConn() {
    const c = state.conn;
    let text = '';
    if (c === 'connecting' && state.everConnected) text = 'Reconnecting…';
    else if (c === 'connecting') text = 'Connecting…';
    else if (c === 'reconnecting') text = `Connection lost. Retrying in ${Math.max(1, Math.round(nextRetryIn() / 1000))} s…`;
    else if (c === 'offline') text = 'You are offline. We will reconnect when your network is back.';
    else if (c === 'expired') text = 'Your chat session expired. Send a message to start again.';
    ui.conn.hidden = !text;
    ui.connText.textContent = text;
    ui.retry.hidden = !(c === 'reconnecting' || c === 'offline');
    host.setAttribute('data-conn', c);
  }

  function fmtTime(ts) {
    const d = new Date(ts - state.clockSkew);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  // One bubble per message, placed by seq. Pending (unacked) ones sit at the end.
  function bubbleFor(m, pending) {
    const el = document.createElement('div');
    const mine = m.from ? m.from.role === 'customer' : true;
    const system = m.from && m.from.role === 'system';
    el.className = 'msg ' + (system ? 'system' : mine ? 'mine' : 'theirs');
    if (!pending) el.dataset.seq = String(m.seq);
    if (m.client_msg_id) el.dataset.cmid = m.client_msg_id;
    if (!mine && !system) {
      const who = document.createElement('span');
      who.className = 'vh';
      who.textContent = (m.from.name || 'Agent') + ' says: ';
      el.appendChild(who);
    }
    const body = document.createElement('div');
    body.className = 'text';
    body.textContent = m.text;
    el.appendChild(body);
    if (!system) {
      const meta = document.createElement('div');
      meta.className = 'meta';
      el.appendChild(meta);
    }
    updateMeta(el, m, pending);
    return el;
  }
  function updateMeta(el, m, pending) {
    const meta = el.querySelector('.meta');
    if (!meta) return;
    const mine = el.classList.contains('mine');
    let s = m.ts ? fmtTime(m.ts) : '';
    if (mine) {
      let st;
      if (pending && pending.failed) st = 'Not sent: ' + pending.failed;
      else if (pending) st = 'Sending…';
      else if (m.seq <= state.readUpTo) st = 'Read';
      else st = 'Sent';
      el.dataset.state = pending ? (pending.failed ? 'failed' : 'pending') : (m.seq <= state.readUpTo ? 'read' : 'sent');
      s = s ? `${s} · ${st}` : st;
    }
    meta.textContent = s;
  }

  function insertMessage(m) {
    if (state.messages.has(m.seq)) return false;      // never show a message twice
    state.messages.set(m.seq, m);
    if (m.seq === state.lastSeq + 1) {
      while (state.messages.has(state.lastSeq + 1)) state.lastSeq++;
    }
    // A pending bubble for the same client_msg_id becomes this message.
    if (m.client_msg_id && m.from && m.from.role === 'customer') {
      const pend = ui.log.querySelector(`.msg.pending[data-cmid="${CSS.escape(m.client_msg_id)}"]`);
      if (pend) pend.remove();
      dropOutbox(m.client_msg_id);
    }
    if (m.seq === 1 && m.from && m.from.role === 'customer') {
      ui.log.querySelector('.msg.pending[data-start]')?.remove();
    }
    const el = bubbleFor(m, null);
    const after = Array.from(ui.log.querySelectorAll('.msg[data-seq]')).find((x) => Number(x.dataset.seq) > m.seq);
    const firstPending = ui.log.querySelector('.msg.pending');
    ui.log.insertBefore(el, after || firstPending || null);
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
      el = bubbleFor({ text: o.text, client_msg_id: o.client_msg_id }, o);
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
      again.textContent = 'Try again';
      again.addEventListener('click', () => { o.failed = null; again.remove(); renderPending(o); flushOutbox(); });
      el.appendChild(again);
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
    ui.typing.textContent = `${name || 'The agent'} is typing…`;
    ui.typing.hidden = false;
    clearTimeout(state.typingHide);
    state.typingHide = setTimeout(hideTyping, TYPING_SHOW_MS);
  }
  function hideTyping() { ui.typing.hidden = true; clearTimeout(state.typingHide); }

  function renderEnded() {
    const ended = state.status === 'resolved';
    ui.ended.hidden = !ended || !ui.csat.hidden;
    // While the leave-a-message form is open it is the one place to write.
    ui.form.hidden = ended || !!ui.leave.querySelector('form');
    ui.input.placeholder = state.status === 'ticket' ? 'Add to your message…' : 'Type your message…';
  }

  // ------------------------------------------------------- the offline path
  // Nobody can take the chat (no agent of the team online, or after hours):
  // the server keeps the first message as a ticket, posts a system notice and
  // sends conversation.ticket. We then ask for a name and an email so the
  // team can reach the customer, and anything they want to add. Those go into
  // the ticket as the customer's next message (a public reply on it); public
  // replies from the team come back into this conversation as messages.
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
    host.setAttribute('data-ticket', state.ticket.ticket_id || '');
    if (state.ticket.details_sent || state.ticket.reason === 'agent') renderEnded();
    else if (state.ticket.skipped) showLeaveLater();
    else showLeaveForm();
  }

  function showLeaveForm() {
    if (!ui.leave.hidden && ui.leave.querySelector('form')) return;
    const c = state.contact || {};
    const why = state.ticket && state.ticket.reason === 'after_hours' ? 'We are closed right now.' : 'Nobody from our team can chat right now.';
    ui.leave.innerHTML = `
<form class="leave-form" aria-labelledby="xc-leave-title" aria-describedby="xc-leave-why" novalidate>
  <h3 id="xc-leave-title">Leave us a message</h3>
  <p id="xc-leave-why" class="leave-why"></p>
  <label class="field" for="xc-leave-name">Your name</label>
  <input id="xc-leave-name" name="name" autocomplete="name" maxlength="100" required aria-required="true">
  <label class="field" for="xc-leave-email">Your email</label>
  <input id="xc-leave-email" name="email" type="email" autocomplete="email" maxlength="254" required aria-required="true" aria-describedby="xc-leave-email-hint">
  <span id="xc-leave-email-hint" class="hint">We only use it to answer you.</span>
  <label class="field" for="xc-leave-msg">Anything to add? (optional)</label>
  <textarea id="xc-leave-msg" name="message" rows="3" maxlength="7000"></textarea>
  <p class="leave-err" role="alert" hidden></p>
  <div class="row"><button type="submit" class="primary">Send message</button><button type="button" class="skip">Not now</button></div>
</form>`;
    ui.leave.querySelector('.leave-why').textContent = why + ' We kept what you wrote; tell us how to reach you and we will answer.';
    const form = ui.leave.querySelector('form');
    form.elements.name.value = c.name || cfg.name || '';
    form.elements.email.value = c.email || '';
    ui.leave.hidden = false;
    renderEnded();
    const focusFirst = !form.elements.name.value ? form.elements.name : form.elements.email.value ? form.elements.message : form.elements.email;
    if (state.open) focusFirst.focus();
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
      for (const f of [form.elements.name, form.elements.email]) f.setAttribute('aria-invalid', String(f === bad));
      if (bad) {
        err.textContent = bad === form.elements.name ? 'Please tell us your name.' : 'Please give an email address we can answer to (like name@example.com).';
        err.hidden = false;
        bad.focus();
        return;
      }
      state.contact = { name, email };
      state.ticket.details_sent = true;
      save();
      // One message into the ticket: the team sees it as the customer's reply.
      queueMessage(`Name: ${name}\nEmail: ${email}` + (extra ? `\n\n${extra}` : ''));
      showLeaveThanks();
    });
  }

  // "Not now": the chat composer comes back, and one button brings the form back.
  function showLeaveLater() {
    if (ui.leave.querySelector('.leave-later')) return;
    ui.leave.innerHTML = '<p class="leave-later">So we can also reach you outside this chat: <button type="button" class="linkish">leave your name and email</button></p>';
    ui.leave.hidden = false;
    ui.leave.querySelector('.linkish').addEventListener('click', () => {
      state.ticket.skipped = false;
      save();
      ui.leave.innerHTML = '';
      showLeaveForm();
    });
    renderEnded();
  }

  function showLeaveThanks() {
    const c = state.contact || {};
    ui.leave.innerHTML = '<div class="leave-done" role="status"><p class="thanks"></p><p></p></div>';
    const [first, second] = ui.leave.querySelectorAll('p');
    first.textContent = `Thank you${c.name ? ', ' + c.name : ''}! We have your message.`;
    second.textContent = `We'll reply here in this chat, and can write to you at ${c.email}. You can close this window; your messages stay in this browser.`;
    ui.leave.hidden = false;
    renderEnded();
  }

  // ------------------------------------------------------------------ CSAT
  // After the resolve: first the one-tap "Did this solve it?", then the CSAT
  // question. Every part is sent as soon as it is given (the tap, a star),
  // so a customer who answers only that still counts; "Send feedback" sends
  // what is left (the verdict, a comment). The server takes each part once.
  const RATING_LABELS = ['Very poor', 'Poor', 'Okay', 'Good', 'Excellent'];
  function showCsat() {
    if (state.csatDone === state.conversationId || state.csatAsked) return;
    state.csatAsked = true;
    const cid = state.conversationId;
    ui.csat.innerHTML = `
<div class="solved-ask" role="group" aria-labelledby="xc-solved-title">
  <h3 id="xc-solved-title">Did this solve it?</h3>
  <div class="row"><button type="button" class="solved-yes" data-solved="true">Yes</button><button type="button" class="solved-no" data-solved="false">Not really</button></div>
</div>
<form class="csat-form" aria-labelledby="xc-csat-title">
  <h3 id="xc-csat-title">How did we do?</h3>
  <fieldset class="stars">
    <legend>Rate this chat from 1 to 5</legend>
    ${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="rating" value="${n}"><span aria-hidden="true">★</span><span class="vh">${n} – ${RATING_LABELS[n - 1]}</span></label>`).join('')}
  </fieldset>
  <fieldset class="expect">
    <legend>Did we exceed, meet, or fall below what you needed?</legend>
    <label><input type="radio" name="expectation" value="below"> <span>Fell below</span></label>
    <label><input type="radio" name="expectation" value="met"> <span>Met</span></label>
    <label><input type="radio" name="expectation" value="exceeded"> <span>Exceeded</span></label>
  </fieldset>
  <label class="cmt">Anything we could do better? (optional)
    <textarea name="comment" rows="2" maxlength="2000"></textarea>
  </label>
  <p class="csat-saved" role="status" hidden></p>
  <p class="csat-err" role="alert" hidden></p>
  <div class="row"><button type="submit" class="primary">Send feedback</button><button type="button" class="skip">Skip</button></div>
</form>`;
    ui.csat.hidden = false;
    renderEnded();
    const form = ui.csat.querySelector('form');
    const err = ui.csat.querySelector('.csat-err');
    const saved = ui.csat.querySelector('.csat-saved');
    const sent = new Set(); // parts the server has
    let queue = Promise.resolve();
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
      err.textContent = ex.code === 'disconnected' ? 'Not connected. Your answer will be sent when you press the button again after reconnecting.' : 'Could not send your feedback: ' + ex.message;
      err.hidden = false;
      queue = Promise.resolve();
    }
    ui.csat.querySelector('.skip').addEventListener('click', () => { ui.csat.hidden = true; renderEnded(); });
    ui.csat.querySelectorAll('.solved-ask button').forEach((btn) => btn.addEventListener('click', async () => {
      const solved = btn.dataset.solved === 'true';
      ui.csat.querySelectorAll('.solved-ask button').forEach((b) => { b.disabled = true; });
      try {
        await sendPart('solved', solved);
        ui.csat.querySelector('.solved-ask').innerHTML = `<p class="solved-noted" role="status">${solved ? 'Glad it is solved.' : 'Sorry it is not solved yet: we will see it.'}</p>`;
      } catch (ex) {
        ui.csat.querySelectorAll('.solved-ask button').forEach((b) => { b.disabled = false; });
        failed(ex);
      }
    }));
    // One tap on a star counts on its own.
    form.querySelectorAll('input[name=rating]').forEach((input) => input.addEventListener('change', async () => {
      err.hidden = true;
      try {
        await sendPart('rating', Number(input.value));
        form.querySelectorAll('input[name=rating]').forEach((i) => { i.disabled = true; });
        saved.textContent = 'Rating saved. Tell us more if you like.';
        saved.hidden = false;
      } catch (ex) { failed(ex); }
    }));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const expectation = fd.get('expectation');
      const comment = String(fd.get('comment') || '').trim();
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      err.hidden = true;
      try {
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
      }
    });
    function thanks() {
      state.csatDone = cid;
      save();
      ui.csat.innerHTML = '<p class="thanks" role="status">Thank you! Your feedback helps us do better than just “good enough”.</p>';
      setTimeout(() => { ui.csat.hidden = true; renderEnded(); }, 2500);
    }
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
    state.visitor = data;
    save();
    return data;
  }

  function ensureConnected() {
    if (ws || retryTimer || state.conn === 'connecting') return;
    connectNow();
  }

  async function connectNow() {
    clearTimeout(retryTimer); retryTimer = null;
    if (ws) return;
    state.conn = 'connecting';
    renderConn();
    let visitor;
    try {
      visitor = await ensureVisitor();
    } catch (e) {
      scheduleReconnect(e.status ? `The chat service answered: ${e.message}` : null);
      return;
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

  function scheduleReconnect(why) {
    const jitter = 0.5 + Math.random();           // 50%..150%
    const delay = Math.min(BACKOFF_MAX_MS, backoffMs) * jitter;
    backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
    retryAt = Date.now() + delay;
    state.conn = navigator.onLine === false ? 'offline' : 'reconnecting';
    renderConn();
    if (why) ui.connText.textContent = why + ` Retrying in ${Math.round(delay / 1000)} s…`;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { retryTimer = null; connectNow(); }, delay);
    clearInterval(state.countdown);
    state.countdown = setInterval(() => {
      if (state.conn !== 'reconnecting') { clearInterval(state.countdown); return; }
      if (!why) renderConn();
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
        // Nobody online at the start is the server's call: it answers with a
        // ticket (see enterTicket). No protocol message says so before the
        // first message, so the widget never guesses it.
        break;
      case 'conversation.assigned':
        if (f.conversation_id !== state.conversationId) break;
        state.agent = f.agent;
        state.status = 'active';
        state.queue = null;
        renderHeader();
        announce(`${f.agent.name || 'An agent'} joined the chat.`);
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
        if (f.reason === 'agent') announce('Your chat is now a ticket. We will answer you here.');
        enterTicket(f.conversation_id, f.ticket_id, f.reason);
        break;
      case 'conversation.resolved':
        if (f.conversation_id !== state.conversationId) break;
        state.status = 'resolved';
        hideTyping();
        stopTyping();
        renderHeader();
        renderEnded();
        announce('The agent ended the chat.');
        break;
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

  // --------------------------------------------------------------- sending
  function queueMessage(text) {
    showError('');
    if (state.status === 'resolved') resetConversation();
    const o = { client_msg_id: uuid(), text, start: !state.conversationId && !state.outbox.some((x) => x.start) };
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
          const frame = { type: 'conversation.start', text: o.text, context: { page_url: location.href.slice(0, 2048) } };
          if (cfg.team) frame.team = cfg.team;
          if (cfg.priority) frame.priority = cfg.priority;
          if (cfg.stage) frame.context.stage = cfg.stage;
          let ack;
          try { ack = await request(frame); } catch (e) { if (!handleSendError(o, e)) break; continue; }
          state.conversationId = ack.conversation_id;
          state.status = ack.status;
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
        let ack;
        try { ack = await request(frame); } catch (e) { if (!handleSendError(o, e)) break; continue; }
        dropOutbox(o.client_msg_id);
        state.acked.set(o.client_msg_id, ack.seq);
        if (!state.messages.has(ack.seq)) {
          // The ack came before the message event: show it as stored now.
          insertMessage({ conversation_id: ack.conversation_id, seq: ack.seq, ts: ack.ts, text: o.text,
            client_msg_id: o.client_msg_id, from: { role: 'customer', id: state.visitor.visitor_id, name: '' } });
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
      o.failed = 'this chat has ended';
      state.status = 'resolved';
      renderEnded();
    } else if (e.code === 'too_large') o.failed = 'the message is too long';
    else if (e.code === 'not_found' && o.start) o.failed = 'this support team does not exist (check data-team)';
    else o.failed = e.message;
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
    host.removeAttribute('data-ticket');
    state.outbox = state.outbox.filter((o) => !o.failed);
    for (const el of ui.log.querySelectorAll('.msg:not(.pending), .note')) el.remove();
    ui.log.querySelector('.intro')?.removeAttribute('hidden');
    ui.csat.hidden = true;
    ui.csat.innerHTML = '';
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

  // ------------------------------------------------------------------ boot
  renderHeader();
  renderConn();
  for (const o of state.outbox) renderPending(o);
  // A returning visitor with an open chat (or unsent messages) reconnects at
  // once, so replies arrive while the panel is closed; others connect when
  // they first open the panel.
  if (state.visitor && (state.conversationId || state.outbox.length)) connectNow();

  window.__exceedWidget = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    get state() { return { conn: state.conn, conversationId: state.conversationId, status: state.status, lastSeq: state.lastSeq, outbox: state.outbox.length, ticketId: state.ticket ? state.ticket.ticket_id : null }; },
  };

  // ------------------------------------------------------------------- CSS
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
button:focus-visible, textarea:focus-visible, .expect input:focus-visible + span, .leave input:focus-visible, .log:focus-visible { outline: 3px solid #f5b400; outline-offset: 2px; }
.launcher { position: relative; width: 60px; height: 60px; border-radius: 50%; background: #2b50d8; color: #fff;
  display: grid; place-items: center; box-shadow: 0 6px 20px rgba(18, 33, 90, .35); transition: transform .15s; margin-left: auto; }
.launcher:hover { transform: translateY(-2px); background: #2343bd; }
.badge { position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px;
  background: #d62e4a; color: #fff; font-size: 12px; font-weight: 700; line-height: 20px; text-align: center; }
.panel { position: absolute; right: 0; bottom: 72px; width: 370px; height: min(600px, calc(100vh - 110px));
  display: flex; flex-direction: column; background: #fff; border-radius: 14px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(18, 33, 90, .28); border: 1px solid #dfe3ee; }
header { display: flex; align-items: center; gap: 8px; padding: 14px 14px 12px 18px; background: #2b50d8; color: #fff; }
.who { flex: 1; min-width: 0; }
h2 { margin: 0; font-size: 16px; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; color: #fff; }
.sub { margin: 2px 0 0; font-size: 12.5px; opacity: .92; color: #fff; }
.close { width: 36px; height: 36px; border-radius: 8px; display: grid; place-items: center; color: #fff; }
.close:hover { background: rgba(255,255,255,.15); }
.conn { padding: 7px 14px; background: #fff5d6; color: #5b4300; font-size: 12.5px; border-bottom: 1px solid #f0dc9c; display: flex; align-items: center; gap: 8px; }
.conn-text { flex: 1; }
.retry { text-decoration: underline; font-weight: 600; color: #5b4300; }
.log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px; background: #f6f7fb; }
.intro { background: #fff; border: 1px solid #e3e6ef; border-radius: 12px; padding: 10px 12px; color: #364055; }
.intro p { margin: 0 0 4px; } .intro p:last-child { margin: 0; }
.msg { max-width: 82%; padding: 8px 11px 5px; border-radius: 14px; word-wrap: break-word; overflow-wrap: anywhere; white-space: pre-wrap; }
.msg .text { white-space: pre-wrap; }
.msg .meta { font-size: 11px; margin-top: 2px; opacity: .75; text-align: right; white-space: nowrap; }
.mine { align-self: flex-end; background: #2b50d8; color: #fff; border-bottom-right-radius: 4px; }
.mine[data-state="failed"] { background: #fbe4e8; color: #7a1024; }
.mine.pending { opacity: .8; }
.theirs { align-self: flex-start; background: #fff; border: 1px solid #e0e4ee; border-bottom-left-radius: 4px; }
.system, .note { align-self: center; max-width: 95%; background: none; color: #5b6478; font-size: 12.5px; text-align: center; padding: 2px 6px; }
.again { margin-top: 4px; text-decoration: underline; font-size: 12px; font-weight: 600; }
.typing { margin: 0; padding: 4px 16px 6px; font-size: 12.5px; color: #5b6478; background: #f6f7fb; font-style: italic; }
.composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px; border-top: 1px solid #e3e6ef; background: #fff; margin: 0; }
textarea { flex: 1; resize: none; font: inherit; color: #1b2230; background: #fff; border: 1px solid #c9cfdd; border-radius: 10px;
  padding: 9px 11px; min-height: 40px; max-height: 120px; line-height: 1.4; margin: 0; width: auto; box-shadow: none; }
textarea:focus { border-color: #2b50d8; outline: none; box-shadow: 0 0 0 3px rgba(43,80,216,.2); }
.send { width: 40px; height: 40px; border-radius: 10px; background: #2b50d8; color: #fff; display: grid; place-items: center; flex: none; }
.send:hover { background: #2343bd; }
.err { margin: 0; padding: 6px 12px; background: #fbe4e8; color: #7a1024; font-size: 12.5px; }
.ended { padding: 12px; text-align: center; border-top: 1px solid #e3e6ef; background: #fff; }
.ended p { margin: 0 0 8px; color: #5b6478; }
.newchat, .primary { background: #2b50d8; color: #fff; padding: 8px 14px; border-radius: 8px; font-weight: 600; }
.skip { padding: 8px 10px; color: #44506a; text-decoration: underline; }
.csat { border-top: 1px solid #e3e6ef; background: #fff; padding: 12px 14px; max-height: 60%; overflow-y: auto; }
.csat h3 { margin: 0 0 6px; font-size: 15px; }
fieldset { border: 0; margin: 0 0 8px; padding: 0; min-width: 0; }
legend { padding: 0; margin-bottom: 4px; font-weight: 600; font-size: 13px; color: #2a3244; }
.stars { display: block; }
.stars label { display: inline-block; cursor: pointer; }
.stars input, .expect input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.stars span[aria-hidden] { display: inline-block; font-size: 28px; line-height: 1; color: #c6ccd9; padding: 0 2px; }
.stars:has(input:checked) span[aria-hidden] { color: #f2a800; }
.stars label:has(input:checked) ~ label span[aria-hidden] { color: #c6ccd9; }
.stars input:focus-visible + span { outline: 3px solid #f5b400; border-radius: 4px; }
.expect { display: flex; gap: 6px; flex-wrap: wrap; }
.expect legend { width: 100%; }
.expect label { flex: 1; min-width: 88px; }
.expect span { display: block; text-align: center; padding: 7px 6px; border: 1px solid #c9cfdd; border-radius: 8px; cursor: pointer; font-size: 13px; }
.expect input:checked + span { background: #2b50d8; border-color: #2b50d8; color: #fff; }
.cmt { display: block; font-size: 13px; color: #2a3244; }
.cmt textarea { display: block; width: 100%; margin-top: 4px; }
.csat-err { color: #a1122e; margin: 4px 0; font-size: 12.5px; }
.solved-ask { margin: 0 0 10px; padding-bottom: 10px; border-bottom: 1px solid #e3e6ef; }
.solved-ask .row { display: flex; gap: 8px; }
.solved-ask button { flex: 1; padding: 8px; border: 1px solid #c9cfdd; border-radius: 8px; background: #fff; cursor: pointer; font: inherit; }
.solved-ask button:hover { border-color: #2b50d8; }
.solved-noted, .csat-saved { margin: 0; color: #1e6b3a; font-size: 13px; }
.row { display: flex; align-items: center; gap: 8px; margin-top: 8px; }
.thanks { margin: 0; color: #1e6b3a; font-weight: 600; }
.leave { border-top: 1px solid #e3e6ef; background: #fff; padding: 12px 14px; max-height: 70%; overflow-y: auto; flex: none; }
.leave h3 { margin: 0 0 4px; font-size: 15px; }
.leave-why { margin: 0 0 8px; color: #44506a; font-size: 13px; }
.leave .field { display: block; font-size: 13px; font-weight: 600; color: #2a3244; margin: 8px 0 3px; }
.leave input, .leave textarea { display: block; width: 100%; font: inherit; color: #1b2230; background: #fff; border: 1px solid #c9cfdd;
  border-radius: 8px; padding: 8px 10px; margin: 0; min-height: 38px; box-shadow: none; }
.leave input:focus, .leave textarea:focus { border-color: #2b50d8; outline: none; box-shadow: 0 0 0 3px rgba(43,80,216,.2); }
.leave input[aria-invalid="true"] { border-color: #a1122e; }
.leave .hint { display: block; font-size: 12px; color: #5b6478; margin-top: 2px; }
.leave-err { color: #a1122e; margin: 6px 0 0; font-size: 12.5px; }
.leave-done p { margin: 0 0 4px; font-size: 13px; color: #2a3244; }
.leave-later { margin: 0; font-size: 13px; color: #44506a; }
.linkish { text-decoration: underline; font-weight: 600; color: #2343bd; }
.leave-done p.thanks { color: #1e6b3a; }
@media (max-width: 480px) {
  :host { right: 12px !important; bottom: 12px !important; }
  :host([data-open]) { left: 0 !important; right: 0 !important; top: 0 !important; bottom: 0 !important; }
  :host([data-open]) .launcher { display: none; }
  .panel { position: fixed; inset: 0; width: 100%; height: 100%; border-radius: 0; border: 0; bottom: 0; }
}
@media (prefers-reduced-motion: reduce) { .launcher { transition: none; } }
`;
  }
})();
