// The live list of visitors on the shop's pages, for the agent console and
// the supervisor dashboard (ES module). Wire: visitors.subscribe and its
// visitors.update events, visitor.invite (proto/PROTOCOL.md, "Visitors,
// invitations and saved replies").
// Accessibility: the table is updated in place row by row (keyed), so focus
// and a screen reader's place survive the updates that come every second;
// the time on a page ticks in cells that are no live region; only the
// answer to a change of the filter ("12 visitors match") is spoken.
import { el, explain, fmtDuration } from './conn.js';
import { setText, syncChildren } from './ui.js';

const FILTER_DELAY_MS = 300;

function path(url) {
  try { return new URL(url).pathname; } catch { return url; }
}

export function money(cart) {
  if (!cart) return '—';
  const value = Number(cart.value);
  let amount;
  try { amount = new Intl.NumberFormat(undefined, { style: 'currency', currency: cart.currency }).format(value); } catch { amount = `${value.toFixed(2)} ${cart.currency}`; }
  return `${amount} · ${cart.items} ${cart.items === 1 ? 'item' : 'items'}`;
}

// What the visitor is doing, in words (never in colour only).
export function visitorState(v) {
  const parts = [];
  if (v.conversation_id) parts.push('Chatting');
  else if (v.invitation && v.invitation.state === 'shown') parts.push('Invited');
  else if (v.invitation && v.invitation.state === 'accepted') parts.push('Accepted an invitation');
  else if (v.dismissed) parts.push('Dismissed an invitation');
  if (!v.connected) parts.push('Left the site');
  else if (v.purchased) parts.push('Bought');
  else if (v.in_checkout) parts.push('In checkout');
  if (!parts.length) parts.push('Browsing');
  return parts.join(' · ');
}

// Why an agent may not invite this visitor now, or '' when they may.
function noInvite(v) {
  if (!v.connected) return 'left the site';
  if (v.conversation_id) return 'already chatting';
  if (v.dismissed) return 'dismissed an invitation in this visit';
  if (v.invitation && (v.invitation.state === 'shown' || v.invitation.state === 'accepted')) return 'has an invitation on screen';
  return '';
}

export class VisitorList {
  // root: an element to fill; opts: {conn(): the Connection, toast(text, bad), label: the table's name}
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.rows = new Map();
    this.total = 0;
    this.skew = 0;
    this.filterTimer = null;
    this.announceNext = false;
    const id = (root.id || 'visitors') + '-';
    this.page = el('input', { type: 'search', id: id + 'page', autocomplete: 'off', placeholder: 'path or title' });
    this.checkout = el('input', { type: 'checkbox', id: id + 'checkout' });
    this.cartMin = el('input', { type: 'number', id: id + 'cart', min: '0', step: '1', inputmode: 'decimal', class: 'cart-min' });
    const form = el('form', { class: 'vis-filter', role: 'search', 'aria-label': 'Filter visitors' },
      el('label', { for: id + 'page' }, 'Page '), this.page,
      el('label', { class: 'check' }, this.checkout, ' In checkout'),
      el('label', { for: id + 'cart' }, 'Cart at least '), this.cartMin);
    form.addEventListener('submit', (e) => { e.preventDefault(); this.refilter(0); });
    for (const input of [this.page, this.checkout, this.cartMin]) {
      input.addEventListener(input === this.checkout ? 'change' : 'input', () => this.refilter(FILTER_DELAY_MS));
    }
    this.count = el('p', { class: 'vis-count muted' });
    this.said = el('p', { class: 'vh', role: 'status' });
    this.body = el('tbody');
    const table = el('table', { class: 'grid visitors' },
      el('caption', { class: 'vh', text: opts.label || 'Visitors on the site' }),
      el('thead', {}, el('tr', {},
        ...['Visitor', 'Page', 'On the page', 'Pages seen', 'Cart', 'Now'].map((h) => el('th', { scope: 'col', text: h })),
        el('th', { scope: 'col' }, el('span', { class: 'vh', text: 'Action' })))),
      this.body);
    this.empty = el('p', { class: 'empty', text: 'Nobody is browsing the shop right now.' });
    root.append(form, this.count, this.said,
      el('div', { class: 'scroll-x', role: 'region', 'aria-label': opts.label || 'Visitors on the site', tabindex: '0' }, table),
      this.empty);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  filter() {
    const f = {};
    if (this.page.value.trim()) f.page = this.page.value.trim().slice(0, 200);
    if (this.checkout.checked) f.in_checkout = true;
    const min = Number(this.cartMin.value);
    if (this.cartMin.value !== '' && Number.isFinite(min) && min >= 0) f.cart_min = min;
    return f;
  }

  // Subscribes (again) with the filter: on every welcome, and when it changes.
  async start() {
    const conn = this.opts.conn();
    if (!conn) return;
    try {
      await conn.request({ type: 'visitors.subscribe', filter: this.filter(), limit: 200 });
      this.root.dataset.state = 'subscribed';
    } catch (e) {
      if (e.code === 'disconnected') return;
      this.root.dataset.state = 'unavailable';
      setText(this.count, e.code === 'forbidden' ? 'Visitor tracking is turned off on this server.' : 'The visitors could not be shown. ' + explain(e) + '.');
    }
  }

  refilter(delay) {
    clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => { this.announceNext = true; this.start(); }, delay);
  }

  onUpdate(f) {
    if (f.full) this.rows.clear();
    for (const v of f.visitors) this.rows.set(v.visitor_id, v);
    for (const id of f.gone) this.rows.delete(id);
    this.total = f.total;
    this.skew = f.server_time - Date.now();
    this.render();
    if (f.full && this.announceNext) {
      this.announceNext = false;
      setText(this.said, this.summary());
    }
  }

  summary() {
    const n = this.total;
    const shown = this.rows.size;
    const what = n === 1 ? '1 visitor' : `${n} visitors`;
    return Object.keys(this.filter()).length ? `${what} match the filter` + (shown < n ? `, the newest ${shown} shown.` : '.')
      : `${what} on the site` + (shown < n ? `, the newest ${shown} shown.` : '.');
  }

  render() {
    const list = [...this.rows.values()].sort((a, b) => b.visit_started_at - a.visit_started_at ||
      (a.visitor_id < b.visitor_id ? -1 : 1));
    syncChildren(this.body, list, {
      key: (v) => v.visitor_id,
      create: (v) => this.row(v),
      update: (tr, v) => this.fill(tr, v),
    });
    this.empty.hidden = list.length > 0;
    setText(this.count, this.summary());
  }

  row(v) {
    const invite = el('button', { type: 'button', class: 'invite' });
    invite.addEventListener('click', () => { if (invite.getAttribute('aria-disabled') !== 'true') this.invite(invite.dataset.visitor); });
    const tr = el('tr', { dataset: { visitorId: v.visitor_id } },
      el('th', { scope: 'row', class: 'who' }, el('span', { class: 'name' }), el('span', { class: 'tags' })),
      el('td', { class: 'page' }, el('span', { class: 'title' }), el('span', { class: 'path muted' })),
      el('td', { class: 'time num' }), el('td', { class: 'pages num' }), el('td', { class: 'cart' }),
      el('td', { class: 'state' }), el('td', { class: 'action' }, invite));
    this.fill(tr, v);
    return tr;
  }

  fill(tr, v) {
    const name = v.name && v.name !== 'Visitor' ? v.name : 'Visitor';
    setText(tr.querySelector('.name'), name);
    setText(tr.querySelector('.tags'), [v.identified ? 'signed in' : '', v.returning ? 'returning' : ''].filter(Boolean).map((t) => ' · ' + t).join(''));
    setText(tr.querySelector('.title'), v.page_title || path(v.page_url));
    setText(tr.querySelector('.path'), v.page_title ? ' ' + path(v.page_url) : '');
    setText(tr.querySelector('.pages'), String(v.pages_seen));
    setText(tr.querySelector('.cart'), money(v.cart));
    setText(tr.querySelector('.state'), visitorState(v));
    tr.dataset.checkout = String(!!v.in_checkout);
    tr.dataset.state = v.conversation_id ? 'chatting' : v.invitation ? v.invitation.state : v.connected ? 'browsing' : 'left';
    const invite = tr.querySelector('button.invite');
    const why = noInvite(v);
    invite.dataset.visitor = v.visitor_id;
    setText(invite, 'Invite');
    invite.setAttribute('aria-label', why ? `Invite ${name}: not now, ${why}` : `Invite ${name} to chat`);
    // aria-disabled, not disabled: the button keeps focus (and says why
    // not) when the visitor it was just used on is invited.
    invite.setAttribute('aria-disabled', String(!!why));
    this.time(tr, v);
  }

  time(tr, v) {
    const s = (Date.now() + this.skew - v.page_started_at) / 1000;
    setText(tr.querySelector('.time'), fmtDuration(s));
  }

  tick() {
    for (const tr of this.body.children) {
      const v = this.rows.get(tr.dataset.visitorId);
      if (v) this.time(tr, v);
    }
  }

  async invite(visitorId) {
    const v = this.rows.get(visitorId);
    const conn = this.opts.conn();
    if (!v || !conn) return;
    const name = v.name && v.name !== 'Visitor' ? v.name : 'The visitor';
    try {
      await conn.request({ type: 'visitor.invite', visitor_id: visitorId });
      this.opts.toast(`Invitation sent to ${name === 'The visitor' ? 'the visitor' : name}. It shows beside their chat button.`);
    } catch (e) {
      const words = {
        conflict: `${name} dismissed an invitation in this visit, is chatting already, or has one on screen: not invited again.`,
        rate_limited: `${name} was invited a moment ago. Give them a little time.`,
        not_found: `${name} has left the site.`,
      };
      this.opts.toast(words[e.code] || 'The invitation was not sent. ' + explain(e) + '.', true);
    }
  }
}
