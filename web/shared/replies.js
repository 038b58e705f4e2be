// Saved replies (ES module) for the agent console and the supervisor
// dashboard: ReplyManager lists, searches, creates, changes and deletes
// them (/api/v1/replies); ReplySuggest offers them in a reply box as the
// agent types "/shortcut" and puts the reply, filled from the conversation
// by the server, in the box for the agent to read before sending.
// Accessibility: the suggestions are a listbox the box points at
// (aria-controls, aria-activedescendant); how many match and what was
// inserted is said once in a status; focus stays in the box throughout.
import { api, el, explain } from './conn.js';
import { setText, syncChildren } from './ui.js';

export const PLACEHOLDERS = ['customer.name', 'agent.name', 'conversation.id', 'page.url', 'cart.items', 'cart.value', 'cart.currency'];

// ------------------------------------------------------------ the manager

export class ReplyManager {
  // opts: {token(), scope: 'personal' | 'team', teams(): [names] (team scope), toast(text, bad), onChange()}
  constructor(root, opts) {
    this.root = root;
    this.opts = opts;
    this.items = [];
    this.editing = null;
    const id = (root.id || 'replies') + '-';
    this.search = el('input', { type: 'search', id: id + 'q', autocomplete: 'off', placeholder: 'shortcut, title or words' });
    const searchForm = el('form', { class: 'rep-search', role: 'search', 'aria-label': 'Search saved replies' },
      el('label', { for: id + 'q' }, 'Search '), this.search);
    searchForm.addEventListener('submit', (e) => { e.preventDefault(); this.load(); });
    let timer = null;
    this.search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => this.load(), 250); });
    this.list = el('ul', { class: 'rep-list' });
    this.empty = el('p', { class: 'empty', text: 'No saved replies yet.' });
    this.heading = el('h3', { id: id + 'form-h', tabindex: '-1', text: 'New saved reply' });
    this.team = el('select', { id: id + 'team' });
    this.shortcut = el('input', { id: id + 'shortcut', required: true, maxlength: '32', pattern: '[a-z0-9_\\-]{1,32}', autocomplete: 'off',
      'aria-describedby': id + 'shortcut-help' });
    this.title = el('input', { id: id + 'title', maxlength: '100', autocomplete: 'off' });
    this.text = el('textarea', { id: id + 'text', rows: '4', required: true, maxlength: '8000', 'aria-describedby': id + 'text-help' });
    this.save = el('button', { type: 'submit', class: 'primary', text: 'Save' });
    this.cancel = el('button', { type: 'button', text: 'Cancel', hidden: true });
    this.result = el('p', { class: 'muted', role: 'status' });
    this.form = el('form', { class: 'rep-form', 'aria-labelledby': id + 'form-h' },
      this.heading,
      opts.scope === 'team' ? el('label', { for: id + 'team' }, 'Team') : null, opts.scope === 'team' ? this.team : null,
      el('label', { for: id + 'shortcut' }, 'Shortcut'), this.shortcut,
      el('span', { id: id + 'shortcut-help', class: 'muted hint', text: 'Typed after / in the reply box: lower-case letters, digits, - and _.' }),
      el('label', { for: id + 'title' }, 'Title (optional)'), this.title,
      el('label', { for: id + 'text' }, 'Text'), this.text,
      el('span', { id: id + 'text-help', class: 'muted hint',
        text: 'Filled in before sending: ' + PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ') + '.' }),
      el('div', { class: 'row' }, this.save, this.cancel), this.result);
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.cancel.addEventListener('click', () => this.edit(null));
    root.append(searchForm, this.list, this.empty, this.form);
  }

  setTeams(teams) {
    const keep = this.team.value;
    this.team.replaceChildren(...teams.map((t) => el('option', { value: t, text: t })));
    if (teams.includes(keep)) this.team.value = keep;
  }

  async load() {
    const q = new URLSearchParams();
    if (this.search.value.trim()) q.set('q', this.search.value.trim().slice(0, 200));
    if (this.opts.scope === 'team') q.set('scope', 'team');
    try {
      const r = await api('/api/v1/replies?' + q, { token: this.opts.token() });
      this.items = r.items || [];
      this.render();
    } catch (e) {
      this.opts.toast('The saved replies could not be loaded. ' + explain(e) + '.', true);
    }
  }

  render() {
    syncChildren(this.list, this.items, {
      key: (r) => r.id,
      create: (r) => {
        const edit = el('button', { type: 'button', text: 'Edit' });
        const del = el('button', { type: 'button', class: 'danger', text: 'Delete' });
        edit.addEventListener('click', () => this.edit(this.items.find((x) => x.id === r.id)));
        del.addEventListener('click', () => this.remove(this.items.find((x) => x.id === r.id), del));
        const li = el('li', { class: 'rep' },
          el('div', { class: 'rep-head' }, el('code', { class: 'rep-shortcut' }), el('span', { class: 'rep-title' })),
          el('p', { class: 'rep-text' }),
          el('div', { class: 'row' }, el('span', { class: 'rep-meta muted' }), edit, del));
        this.fill(li, r);
        return li;
      },
      update: (li, r) => this.fill(li, r),
    });
    this.empty.hidden = this.items.length > 0;
  }

  fill(li, r) {
    setText(li.querySelector('.rep-shortcut'), '/' + r.shortcut);
    setText(li.querySelector('.rep-title'), r.title ? ' ' + r.title : '');
    setText(li.querySelector('.rep-text'), r.text);
    setText(li.querySelector('.rep-meta'), `${r.scope === 'team' ? 'Shared by ' + r.team : 'Your own'} · used ${r.uses} ${r.uses === 1 ? 'time' : 'times'}`);
    const [edit, del] = li.querySelectorAll('button');
    edit.hidden = del.hidden = !r.editable;
    edit.setAttribute('aria-label', `Edit /${r.shortcut}`);
    del.setAttribute('aria-label', `Delete /${r.shortcut}`);
  }

  edit(r) {
    this.editing = r;
    this.shortcut.value = r ? r.shortcut : '';
    this.title.value = r ? r.title : '';
    this.text.value = r ? r.text : '';
    if (r && r.team) this.team.value = r.team;
    this.team.disabled = !!r;
    this.cancel.hidden = !r;
    setText(this.heading, r ? `Edit /${r.shortcut}` : 'New saved reply');
    setText(this.result, '');
    (r ? this.text : this.heading).focus();
  }

  async submit() {
    const body = { shortcut: this.shortcut.value.trim(), title: this.title.value.trim(), text: this.text.value.trim() };
    const editing = this.editing;
    if (!editing) {
      body.scope = this.opts.scope;
      if (this.opts.scope === 'team') body.team = this.team.value;
    }
    this.save.disabled = true;
    try {
      const r = await api('/api/v1/replies' + (editing ? '/' + encodeURIComponent(editing.id) : ''),
        { token: this.opts.token(), method: editing ? 'PATCH' : 'POST', body });
      setText(this.result, `Saved /${r.shortcut}.`);
      this.editing = null;
      this.shortcut.value = this.title.value = this.text.value = '';
      this.team.disabled = false;
      this.cancel.hidden = true;
      setText(this.heading, 'New saved reply');
      await this.load();
      if (this.opts.onChange) this.opts.onChange();
    } catch (e) {
      const words = {
        conflict: `The shortcut /${body.shortcut} is taken: choose another.`,
        bad_request: 'Check the shortcut (a-z, 0-9, - and _) and the placeholders in the text.',
        too_large: 'The text (8000 bytes) or the title (100 characters) is too long.',
        forbidden: 'Only supervisors change a team’s shared replies.',
      };
      setText(this.result, words[e.code] || 'Not saved. ' + explain(e) + '.');
      this.shortcut.focus();
    } finally {
      this.save.disabled = false;
    }
  }

  async remove(r, button) {
    if (!r) return;
    const li = button.closest('li');
    const next = li && (li.nextElementSibling || li.previousElementSibling);
    try {
      await api('/api/v1/replies/' + encodeURIComponent(r.id), { token: this.opts.token(), method: 'DELETE' });
      this.opts.toast(`Deleted /${r.shortcut}.`);
      await this.load();
      if (this.opts.onChange) this.opts.onChange();
      // Its item is gone: focus goes to the next one, or the search.
      const b = next && next.isConnected && next.querySelector('button:not([hidden])');
      if (b) b.focus(); else this.search.focus();
    } catch (e) {
      this.opts.toast('Not deleted. ' + explain(e) + '.', true);
    }
  }
}

// ------------------------------------------------ suggestions in a reply box

// The "/word" being typed at the caret, as {start, end, query}, or null.
function slashToken(box) {
  const end = box.selectionStart;
  if (end !== box.selectionEnd) return null;
  const before = box.value.slice(0, end);
  const m = /(^|\s)\/([a-z0-9_-]{0,32})$/i.exec(before);
  if (!m) return null;
  return { start: end - m[2].length - 1, end, query: m[2].toLowerCase() };
}

export class ReplySuggest {
  // box: the textarea; list: an empty <ul>; status: a polite status element;
  // opts: {token(), conversationId(), enabled(), toast(text, bad)}
  constructor(box, list, status, opts) {
    this.box = box;
    this.list = list;
    this.status = status;
    this.opts = opts;
    this.items = [];
    this.active = -1;
    this.token = null;
    this.seq = 0;
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Saved replies');
    list.hidden = true;
    box.setAttribute('aria-autocomplete', 'list');
    box.setAttribute('aria-controls', list.id);
    box.addEventListener('input', () => this.update());
    box.addEventListener('keydown', (e) => this.key(e));
    box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== box) this.close(); }, 150));
    list.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus in the box
  }

  get open() { return !this.list.hidden && this.items.length > 0; }

  async update() {
    const token = this.opts.enabled() ? slashToken(this.box) : null;
    this.token = token;
    if (!token) { this.close(); return; }
    const mine = ++this.seq;
    let items = [];
    try {
      const q = new URLSearchParams({ q: token.query });
      items = (await api('/api/v1/replies?' + q, { token: this.opts.token() })).items || [];
    } catch { items = []; }
    if (mine !== this.seq) return; // a newer keystroke asked since
    this.items = items.slice(0, 8);
    this.active = this.items.length ? 0 : -1;
    this.render();
    setText(this.status, this.items.length
      ? `${this.items.length === 1 ? '1 saved reply matches' : this.items.length + ' saved replies match'} /${token.query}. Up and down to choose, Enter to insert, Escape to close.`
      : `No saved reply matches /${token.query}.`);
  }

  render() {
    this.list.replaceChildren(...this.items.map((r, i) => {
      const li = el('li', { role: 'option', id: `${this.list.id}-${i}`, 'aria-selected': String(i === this.active), dataset: { replyId: r.id } },
        el('code', { text: '/' + r.shortcut }), r.title ? el('span', { class: 'muted', text: ' ' + r.title }) : null);
      li.addEventListener('click', () => this.pick(i));
      return li;
    }));
    this.list.hidden = this.items.length === 0;
    if (this.active >= 0) this.box.setAttribute('aria-activedescendant', `${this.list.id}-${this.active}`);
    else this.box.removeAttribute('aria-activedescendant');
  }

  close() {
    this.items = [];
    this.active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.box.removeAttribute('aria-activedescendant');
  }

  key(e) {
    if (!this.open) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = this.items.length;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
      this.list.children[this.active].scrollIntoView({ block: 'nearest' });
    } else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      e.preventDefault();
      e.stopImmediatePropagation();
      this.pick(this.active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      setText(this.status, 'Saved replies closed.');
    }
  }

  // Puts the reply, filled from the conversation, in place of the "/word".
  async pick(i) {
    const r = this.items[i];
    const token = this.token;
    this.close();
    if (!r || !token) return;
    let filled;
    try {
      filled = await api('/api/v1/replies/' + encodeURIComponent(r.id) + '/use',
        { token: this.opts.token(), method: 'POST', body: { conversation_id: this.opts.conversationId() || undefined } });
    } catch (e) {
      this.opts.toast(`The saved reply /${r.shortcut} could not be filled in. ` + explain(e) + '.', true);
      return;
    }
    const v = this.box.value;
    const text = filled.text;
    this.box.value = v.slice(0, token.start) + text + v.slice(token.end);
    const caret = token.start + text.length;
    this.box.setSelectionRange(caret, caret);
    this.box.focus();
    this.box.dispatchEvent(new Event('input', { bubbles: true }));
    this.close();
    const missing = filled.missing || [];
    setText(this.status, `Inserted /${r.shortcut}. ` + (missing.length
      ? `Not filled in: ${missing.join(', ')}. Complete it before sending.`
      : 'Read it, then press Enter to send.'));
    if (missing.length) this.opts.toast(`/${r.shortcut}: nothing to fill in for ${missing.join(', ')}. Complete the text before sending.`, false);
  }
}
