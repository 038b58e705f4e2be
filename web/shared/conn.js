// Shared by the agent console and the supervisor dashboard (ES module).
// A WebSocket connection to /ws that says hello, matches acks to requests by
// id, and reconnects by itself with exponential backoff and jitter.
// Wire contract: proto/PROTOCOL.md.

export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

export class ServerError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

// Words a person understands for each error code of PROTOCOL.md §4, with
// what to do about it. The server's own message is for the logs: callers
// that know what a code means for their action say it in their own words.
const ERROR_WORDS = {
  bad_request: 'That was not accepted. Check what you entered and try again',
  unauthorized: 'Your session has ended. Please sign in again',
  forbidden: 'You are not allowed to do that',
  not_found: 'It no longer exists, or you cannot see it. Refresh and try again',
  conflict: 'That is not possible right now: it may have changed meanwhile. Refresh and try again',
  rate_limited: 'Too many actions at once. Wait a moment, then try again',
  too_large: 'That is too long. Shorten it and try again',
  unavailable: 'The service is busy or restarting. Try again in a moment',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator',
  disconnected: 'You are not connected. Try again once the connection is back',
};
export function explain(err) {
  const code = err && err.code;
  if (ERROR_WORDS[code]) return ERROR_WORDS[code];
  if (code === 'http_429') return ERROR_WORDS.rate_limited;
  if (/^http_5/.test(code || '')) return ERROR_WORDS.unavailable;
  return 'Something went wrong. Try again in a moment';
}

export class Connection {
  // opts: {token, hello(): extra hello fields, onFrame(frame), onState(state, detail), onWelcome(frame)}
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.state = 'idle';
    this.backoff = BACKOFF_MIN_MS;
    this.timer = null;
    this.retryAt = 0;
    this.reqId = 0;
    this.pending = new Map();
    this.stopped = false;
    this.url = location.origin.replace(/^http/, 'ws') + '/ws';
    window.addEventListener('online', () => { if (this.state === 'reconnecting') this.retryNow(); });
  }

  setState(s, detail) {
    this.state = s;
    this.opts.onState && this.opts.onState(s, detail);
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) { const w = this.ws; this.ws = null; w.close(1000, 'bye'); }
    this.failPending();
    this.setState('stopped');
  }

  retryNow() {
    this.backoff = BACKOFF_MIN_MS;
    clearTimeout(this.timer);
    if (!this.ws && !this.stopped) this.connect();
  }

  connect() {
    this.timer = null;
    this.setState(this.everOnline ? 'reconnecting' : 'connecting', { attempt: true });
    let ws;
    try { ws = new WebSocket(this.url); } catch (e) { this.scheduleRetry(); return; }
    this.ws = ws;
    ws.onopen = () => {
      const hello = Object.assign({ type: 'hello', token: this.opts.token }, this.opts.hello ? this.opts.hello() : {});
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws) return;
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      if (f.type === 'welcome') {
        this.everOnline = true;
        this.backoff = BACKOFF_MIN_MS;
        this.serverSkew = f.server_time - Date.now();
        this.setState('online');
        this.opts.onWelcome && this.opts.onWelcome(f);
        return;
      }
      if (f.type === 'ack' || (f.type === 'error' && f.id != null)) {
        const p = this.pending.get(String(f.id));
        if (p) {
          this.pending.delete(String(f.id));
          if (f.type === 'ack') p.resolve(f); else p.reject(new ServerError(f.code, f.message));
          return;
        }
      }
      this.opts.onFrame && this.opts.onFrame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending();
      if (this.stopped) return;
      if (ev.code === 4401) { this.setState('unauthorized'); return; } // never retry without a new token
      this.scheduleRetry(ev.code);
    };
  }

  scheduleRetry(code) {
    const delay = Math.min(BACKOFF_MAX_MS, this.backoff) * (0.5 + Math.random());
    this.backoff = Math.min(BACKOFF_MAX_MS, this.backoff * 2);
    this.retryAt = Date.now() + delay;
    this.setState('reconnecting', { retryAt: this.retryAt, code });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  failPending() {
    for (const [, p] of this.pending) p.reject(new ServerError('disconnected', 'not connected'));
    this.pending.clear();
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.state !== 'online') return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  request(frame) {
    const id = 'r' + (++this.reqId);
    return new Promise((resolve, reject) => {
      if (!this.send(Object.assign({}, frame, { id }))) { reject(new ServerError('disconnected', 'not connected')); return; }
      this.pending.set(id, { resolve, reject });
    });
  }
}

export async function api(path, { token, method = 'GET', body } = {}) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ServerError('disconnected', 'the server cannot be reached');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data && data.error) || {};
    throw new ServerError(err.code || 'http_' + res.status, err.message || `HTTP ${res.status}`);
  }
  return data;
}

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (x) => x.toString(16).padStart(2, '0')).join('');
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c != null) e.append(c);
  return e;
}

export function fmtTime(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function fmtDuration(s) {
  if (s == null) return '—';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + (s % 60 ? (s % 60) + ' s' : '');
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}

// The connection's state in words; the countdown to the next try is apart
// (connCountdown), so a status region can speak the state once and the
// seconds can tick outside it.
export function connWords(state) {
  if (state === 'online') return 'Connected';
  if (state === 'connecting') return 'Connecting…';
  if (state === 'reconnecting') return 'Connection lost';
  if (state === 'unauthorized') return 'Signed out: session expired';
  if (state === 'stopped') return 'Disconnected';
  return state;
}
export function connCountdown(state, detail) {
  if (state !== 'reconnecting' || !detail || !detail.retryAt) return '';
  return `retrying in ${Math.max(1, Math.round((detail.retryAt - Date.now()) / 1000))} s`;
}

// A file attached to a message or a ticket comment ({id, name, inline, url,
// ...}): images as a thumbnail, anything else as a download. Both are
// fetched with the bearer token (an <img> or a link could not send it), as
// a blob, once each.
const blobs = new Map();
export function fetchBlob(url, token) {
  if (!blobs.has(url)) {
    blobs.set(url, fetch(url, { headers: { Authorization: 'Bearer ' + token } })
      .then((r) => { if (!r.ok) throw new ServerError('http_' + r.status, `HTTP ${r.status}`); return r.blob(); })
      .then((b) => URL.createObjectURL(b))
      .catch((e) => { blobs.delete(url); throw e; }));
  }
  return blobs.get(url);
}

export function attachmentView(a, token, onError = () => {}) {
  if (a.inline) {
    const img = el('img', { class: 'thumb', alt: `Picture: ${a.name}` });
    fetchBlob(a.url, token).then((u) => { img.src = u; }, onError);
    return el('div', { class: 'att' }, img);
  }
  const link = el('a', { class: 'download', href: '#', text: `Download ${a.name}` });
  link.addEventListener('click', async (e) => {
    e.preventDefault();
    try {
      const save = el('a', { href: await fetchBlob(a.url, token), download: a.name });
      save.click();
    } catch (err) { onError(err); }
  });
  return el('div', { class: 'att' }, link);
}
