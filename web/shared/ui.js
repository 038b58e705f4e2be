// Shared by the agent console and the supervisor dashboard (ES module): the
// pieces that keep them accessible while they update live.
//  - setText: live text written only when it changes (the same words
//    written again are spoken again);
//  - syncChildren: a list or table updated in place, keyed, so focus and a
//    screen reader's place survive an update;
//  - Toaster: messages that never cover a control and stay until read when
//    they matter;
//  - Picker: pick a team or a person by name, with a search, instead of
//    typing an id.
import { el } from './conn.js';

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// The element that has focus inside `container`, or null.
function focusWithin(container) {
  const a = document.activeElement;
  return a && a !== document.body && container.contains(a) ? a : null;
}

// Makes `container`'s children the nodes for `items`, in order, reusing the
// node of each key: create(item) makes a new node (its dataset.key is set
// here), update(node, item) brings an existing one up to date. Nodes are
// moved only when out of order, and focus inside a moved node is put back.
// Returns the nodes removed (the caller may move focus from them first).
export function syncChildren(container, items, { key, create, update }) {
  const byKey = new Map();
  for (const n of Array.from(container.children)) if (n.dataset.key != null) byKey.set(n.dataset.key, n);
  const wanted = [];
  for (const item of items) {
    const k = String(key(item));
    let node = byKey.get(k);
    if (node) { byKey.delete(k); update(node, item); } else { node = create(item); node.dataset.key = k; }
    wanted.push(node);
  }
  const focused = focusWithin(container);
  for (const gone of byKey.values()) gone.remove();
  let cursor = container.firstElementChild;
  for (const node of wanted) {
    // Skip children that are not keyed (a caption, an empty note).
    while (cursor && cursor.dataset.key == null) cursor = cursor.nextElementSibling;
    if (node !== cursor) container.insertBefore(node, cursor);
    else cursor = cursor.nextElementSibling;
  }
  if (focused && focused.isConnected && document.activeElement !== focused) focused.focus();
  return [...byKey.values()];
}

// ----------------------------------------------------------------- toasts
// Messages in a strip of their own under the top bar (never over a
// control). Information goes after `infoMs`, but not while the pointer or
// focus is on it; a message that matters (an error, a follow-up due) stays
// until dismissed. Each has a Dismiss button.
export class Toaster {
  constructor(area, { infoMs = 8000 } = {}) {
    this.area = area;
    this.infoMs = infoMs;
  }

  show(text, { bad = false, sticky = bad } = {}) {
    const dismiss = el('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss: ' + text, text: '×' });
    const t = el('div', { class: 'toast' + (bad ? ' bad' : ''), role: bad ? 'alert' : 'status' },
      el('span', { class: 'toast-text', text }), dismiss);
    const close = () => {
      // Focus on the closing toast goes to the next one, or back to the page.
      const had = t.contains(document.activeElement);
      const next = t.nextElementSibling || t.previousElementSibling;
      t.remove();
      if (had && next) next.querySelector('.toast-close').focus();
      else if (had) this.onEmpty && this.onEmpty();
    };
    dismiss.addEventListener('click', close);
    this.area.append(t);
    if (!sticky) {
      let timer = null;
      const arm = () => { clearTimeout(timer); timer = setTimeout(close, this.infoMs); };
      const hold = () => clearTimeout(timer);
      t.addEventListener('pointerenter', hold);
      t.addEventListener('pointerleave', arm);
      t.addEventListener('focusin', hold);
      t.addEventListener('focusout', arm);
      arm();
    }
    return t;
  }
}

// ----------------------------------------------------------------- picker
// A search box over a radio list in groups ("Teams", "Agents"): typing
// filters by name, arrow keys move between the choices, and the choice is
// the radio's value. update(items) keeps the choices in place as the
// directory changes. items: [{value, group, label, detail, disabled}].
export class Picker {
  constructor(box, { name, searchLabel, groups, noneText = 'Nobody matches.' }) {
    this.name = name;
    this.noneText = noneText;
    const id = 'pk-' + name;
    this.search = el('input', { type: 'search', id: id + '-q', class: 'picker-search', autocomplete: 'off',
      'aria-describedby': id + '-count' });
    this.count = el('p', { id: id + '-count', class: 'picker-count muted', role: 'status' });
    this.groups = new Map();
    const sets = groups.map((g) => {
      const list = el('div', { class: 'picker-list' });
      const fs = el('fieldset', { class: 'picker-group', dataset: { group: g.key } }, el('legend', { text: g.label }), list);
      this.groups.set(g.key, { fs, list });
      return fs;
    });
    box.replaceChildren(el('label', { class: 'picker-label', for: id + '-q', text: searchLabel }), this.search, this.count, ...sets);
    box.classList.add('picker');
    this.items = [];
    this.search.addEventListener('input', () => this.filter(true));
  }

  update(items) {
    this.items = items;
    for (const [key, g] of this.groups) {
      syncChildren(g.list, items.filter((i) => i.group === key), {
        key: (i) => i.value,
        create: (i) => {
          const input = el('input', { type: 'radio', name: this.name, value: i.value });
          const node = el('label', { class: 'picker-item' }, input, el('span', { class: 'picker-name' }), el('span', { class: 'picker-detail' }));
          this.fill(node, i);
          return node;
        },
        update: (node, i) => this.fill(node, i),
      });
    }
    this.filter(false);
  }

  fill(node, i) {
    setText(node.querySelector('.picker-name'), i.label);
    setText(node.querySelector('.picker-detail'), i.detail ? ' · ' + i.detail : '');
    const input = node.querySelector('input');
    input.disabled = !!i.disabled;
    if (i.disabled && input.checked) input.checked = false;
    node.classList.toggle('disabled', !!i.disabled);
    node.dataset.search = (i.label + ' ' + (i.detail || '') + ' ' + (i.keywords || '')).toLowerCase();
  }

  filter(typed) {
    const q = this.search.value.trim().toLowerCase();
    let shown = 0;
    for (const g of this.groups.values()) {
      let inGroup = 0;
      for (const node of g.list.children) {
        const hit = !q || node.dataset.search.includes(q);
        node.hidden = !hit;
        if (hit) inGroup++;
      }
      g.fs.hidden = inGroup === 0;
      shown += inGroup;
    }
    const words = shown === 0 ? this.noneText : q ? `${shown} ${shown === 1 ? 'match' : 'matches'}` : `${shown} to choose from`;
    // Spoken when the search changes the list, not on every directory update.
    if (typed || !this.count.textContent) setText(this.count, words);
    else if (this.count.dataset.shown !== String(shown)) setText(this.count, words);
    this.count.dataset.shown = String(shown);
  }

  value() {
    const c = this.search.closest('.picker').querySelector(`input[name="${this.name}"]:checked`);
    return c && !c.closest('[hidden]') ? c.value : null;
  }

  clear() {
    this.search.value = '';
    for (const r of this.search.closest('.picker').querySelectorAll(`input[name="${this.name}"]`)) r.checked = false;
    this.filter(false);
  }
}
