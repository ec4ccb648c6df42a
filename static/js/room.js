// The room page's client: it takes over the server-rendered page
// (views/room.templ) and keeps it live through the transport.

import { Transport, DOORS } from './transport.js';
import { Timeline } from './timeline.js';
import { Outbox } from './outbox.js';
import { el, userName, api, ApiError, newKey } from './util.js';

const HISTORY_PAGE = 50;
const RESET_PAGE = 100;
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 5000;
const MAX_BODY = 4000;

const $ = (id) => document.getElementById(id);

export function startRoom(section) {
  const client = new RoomClient(section);
  client.start();
  return client;
}

class RoomClient {
  constructor(section) {
    const d = section.dataset;
    this.room = d.room;
    this.me = d.me || '';
    this.meGuest = d.meGuest === 'true';
    this.lastId = Number(d.lastId) || 0;
    this.firstId = Number(d.firstId) || 0;
    this.more = d.more === 'true';
    this.roomState = {
      title: $('room-title').textContent,
      topic: $('room-topic').textContent,
      locked: d.locked === 'true',
      archived: d.archived === 'true',
      slow_mode: Number(d.slowMode) || 0,
    };
    this.base = `/api/rooms/${encodeURIComponent(this.room)}`;
    this.requests = new Map(); // WS frame key -> {resolve, reject}
    this.resetting = null; // events held while a reset reloads history
    this.typers = new Map(); // name -> timer
    this.lastTypingSent = 0;
    this.online = new Map(); // name -> guest
    this.onlineCount = Number($('online-count').textContent) || 0;
    for (const li of $('online-list').querySelectorAll('li.online-user')) {
      this.online.set(li.dataset.user || li.querySelector('.user-name').textContent, Boolean(li.querySelector('.badge-guest')));
    }

    this.timeline = new Timeline({
      list: $('timeline'),
      scroller: $('timeline-scroll'),
      hint: $('new-messages'),
      me: this.me,
      canModerate: d.canModerate === 'true',
      onRoom: (changes) => this.roomChanged(changes),
    });
    this.transport = new Transport({
      room: this.room,
      cursor: () => this.lastId,
      on: {
        hello: (h) => this.hello(h),
        event: (ev) => this.event(ev),
        reset: (n) => this.reset(n),
        ack: (a) => this.answer(a.key, a, null),
        error: (e) => this.frameError(e),
        state: (state, door, text) => this.connState(state, door, text),
        kicked: (reason) => this.alert(`${reason} You can come back in a little while.`),
        ended: (reason) => this.ended(reason),
      },
    });
    const tl = this.timeline;
    this.outbox = new Outbox({
      room: this.room,
      canSend: () => this.transport.live,
      deliver: (item) => this.deliver(item),
      status: (text) => this.composerError(text),
      view: {
        show: (item) => tl.showPending(item, this.meGuest),
        drop: (key) => tl.dropPending(key),
        state: (key, s) => tl.pendingState(key, s),
        shown: (msg) => Boolean(document.getElementById(`m-${msg}`)),
      },
    });
  }

  start() {
    this.outbox.showAll();
    this.timeline.toBottom();
    this.bindComposer();
    this.bindTimeline();
    this.bindHistory();
    const client = this;
    window.chatClient = {
      get door() { return client.transport.door; },
      get state() { return client.transport.state; },
      get lastId() { return client.lastId; },
      outbox() { return client.outbox.list(); },
    };
    this.transport.start();
  }

  // --- connection ---------------------------------------------------------

  connState(state, door, text) {
    const s = $('conn-status');
    s.dataset.state = state;
    s.dataset.door = door;
    s.textContent = text;
    if (state !== 'live') {
      for (const [, r] of this.requests) r.reject(Object.assign(new Error('Connection lost.'), { code: 'disconnected' }));
      this.requests.clear();
    } else {
      this.alert('');
      this.outbox.pump();
    }
  }

  alert(text, signIn) {
    const a = $('room-alert');
    a.replaceChildren();
    a.hidden = !text;
    if (!text) return;
    a.append(el('span', '', text));
    if (signIn) {
      const link = el('a', 'signin-link', 'Sign in again');
      link.href = `/signin?next=${encodeURIComponent(`/rooms/${this.room}`)}`;
      a.append(' ', link);
    }
  }

  ended(reason) {
    this.alert(reason || 'Your session ended.', true);
    $('composer-input').disabled = true;
    $('send').disabled = true;
  }

  hello(h) {
    if (h.room) {
      const r = h.room;
      this.roomChanged({ title: r.title, topic: r.topic, locked: r.locked, archived: r.archived, slow_mode: r.slow_mode }, true);
    }
    if (Array.isArray(h.online)) this.setOnline(h.online, h.online_count);
  }

  // event applies one event from any door, exactly once.
  event(ev) {
    switch (ev.type) {
      case 'cursor':
        if (ev.last_id > this.lastId) this.lastId = ev.last_id;
        return;
      case 'join': this.join(ev.user, ev.guest); return;
      case 'leave': this.leave(ev.user); return;
      case 'presence': this.setOnline(ev.online || [], ev.online_count); return;
      case 'typing': this.typing(ev.user); return;
      default:
    }
    if (this.resetting) { this.resetting.push(ev); return; }
    if (ev.id !== undefined) {
      if (ev.id <= this.lastId) return;
      this.lastId = ev.id;
    }
    if (ev.type === 'message') {
      if (ev.user === this.me) this.outbox.seen(ev);
      this.stopTyping(ev.user);
    }
    this.timeline.apply(ev);
  }

  // reset: the cursor could not be served; the timeline is reloaded from
  // the newest history and live events after lastId follow.
  async reset(lastId) {
    this.lastId = lastId;
    if (this.resetting) return;
    this.resetting = [];
    try {
      const h = await api('GET', `${this.base}/history?limit=${RESET_PAGE}`);
      const events = h.events || [];
      this.timeline.replace(events);
      for (const ev of events) if (ev.id > this.lastId) this.lastId = ev.id;
      this.firstId = events.length ? events[0].id : 0;
      this.setMore(Boolean(h.more));
    } catch {
      $('history-status').textContent = 'Could not reload the room. Reload the page.';
    }
    const held = this.resetting;
    this.resetting = null;
    for (const ev of held) this.event(ev);
  }

  // --- requests over the WebSocket or HTTP ---------------------------------

  frame(frame) {
    return new Promise((resolve, reject) => {
      if (!this.transport.sendFrame(frame)) {
        reject(Object.assign(new Error('Connection lost.'), { code: 'disconnected' }));
        return;
      }
      this.requests.set(frame.key, { resolve, reject });
    });
  }

  answer(key, ack, err) {
    const r = this.requests.get(key);
    if (!r) return;
    this.requests.delete(key);
    if (err) r.reject(err); else r.resolve(ack);
  }

  frameError(e) {
    const err = Object.assign(new Error(e.message || e.code), { code: e.code, retryAfter: e.retry_after });
    if (e.key && this.requests.has(e.key)) this.answer(e.key, null, err);
    else if (e.message) this.composerError(e.message);
  }

  async deliver(item) {
    if (this.transport.door === 'ws') return this.frame({ type: 'send', body: item.body, key: item.key });
    try {
      return await api('POST', `${this.base}/messages`, { body: item.body, key: item.key });
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw Object.assign(new Error('Could not send.'), { code: 'network' });
    }
  }

  editMessage(msg, body) {
    if (this.transport.door === 'ws' && this.transport.live) return this.frame({ type: 'edit', msg, body, key: newKey('e-') });
    return api('PATCH', `${this.base}/messages/${msg}`, { body });
  }

  deleteMessage(msg) {
    if (this.transport.door === 'ws' && this.transport.live) return this.frame({ type: 'delete', msg, key: newKey('d-') });
    return api('DELETE', `${this.base}/messages/${msg}`);
  }

  // --- room header and presence --------------------------------------------

  roomChanged(changes, quiet) {
    Object.assign(this.roomState, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)));
    const r = this.roomState;
    $('room-title').textContent = r.title;
    $('room-topic').textContent = r.topic || '';
    const flags = [];
    if (r.archived) flags.push('Archived');
    if (r.locked) flags.push('Locked');
    if (r.slow_mode > 0) flags.push(`Slow mode: ${r.slow_mode} s`);
    $('room-flags').textContent = flags.join(' · ');
    if (!quiet && 'title' in changes) document.title = r.title;
  }

  setOnline(list, count) {
    this.online = new Map(list.map((u) => [u.name, Boolean(u.guest)]));
    this.onlineCount = Number.isFinite(count) ? count : this.online.size;
    this.renderOnline();
  }

  join(name, guest) {
    if (this.online.has(name)) return;
    this.online.set(name, Boolean(guest));
    this.onlineCount++;
    this.renderOnline();
  }

  leave(name) {
    if (!this.online.delete(name)) return;
    this.onlineCount = Math.max(this.online.size, this.onlineCount - 1);
    this.stopTyping(name);
    this.renderOnline();
  }

  renderOnline() {
    const ul = $('online-list');
    const names = [...this.online.keys()].sort((a, b) => a.localeCompare(b));
    ul.replaceChildren(...names.map((name) => {
      const li = el('li', 'online-user');
      li.dataset.user = name;
      li.append(userName(name, this.online.get(name)));
      return li;
    }));
    $('online-count').textContent = String(Math.max(this.onlineCount, this.online.size));
  }

  // --- typing ----------------------------------------------------------------

  typing(name) {
    if (!name || name === this.me) return;
    clearTimeout(this.typers.get(name));
    this.typers.set(name, setTimeout(() => this.stopTyping(name), TYPING_SHOW_MS));
    this.renderTyping();
  }

  stopTyping(name) {
    if (!this.typers.has(name)) return;
    clearTimeout(this.typers.get(name));
    this.typers.delete(name);
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typers.keys()];
    let text = '';
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
    $('typing').textContent = text;
  }

  sendTyping() {
    const now = Date.now();
    if (now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    if (this.transport.sendFrame({ type: 'typing' })) this.lastTypingSent = now;
  }

  // --- composer --------------------------------------------------------------

  composerError(text) {
    $('composer-error').textContent = text;
  }

  bindComposer() {
    const form = $('composer');
    const input = $('composer-input');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = input.value.trim();
      if (!body) return;
      if ([...body].length > MAX_BODY) {
        this.composerError(`That message is too long: at most ${MAX_BODY} characters.`);
        return;
      }
      this.composerError('');
      input.value = '';
      this.outbox.add(body);
      this.timeline.toBottom();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener('input', () => { if (input.value.trim()) this.sendTyping(); });
  }

  // --- message actions ---------------------------------------------------------

  bindTimeline() {
    $('timeline').addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b) return;
      const li = b.closest('li.msg');
      if (!li) return;
      const msg = Number(li.dataset.msg);
      const c = b.classList;
      if (c.contains('retry')) this.outbox.retry(li.dataset.key);
      else if (c.contains('discard')) this.outbox.discard(li.dataset.key);
      else if (c.contains('edit')) this.openEditor(li);
      else if (c.contains('edit-save')) this.saveEdit(li, msg);
      else if (c.contains('edit-cancel')) this.closeEditor(li);
      else if (c.contains('delete')) this.askDelete(li);
      else if (c.contains('delete-confirm')) this.confirmDelete(li, msg);
      else if (c.contains('delete-cancel')) this.closeDelete(li);
      else if (c.contains('report')) this.openReport(li);
      else if (c.contains('report-send')) this.sendReport(li, msg);
    });
    $('timeline').addEventListener('keydown', (e) => {
      const t = e.target;
      const li = t.closest && t.closest('li.msg');
      if (!li) return;
      if (t.classList.contains('edit-input')) {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.saveEdit(li, Number(li.dataset.msg)); }
        else if (e.key === 'Escape') { e.preventDefault(); this.closeEditor(li); }
      } else if (t.classList.contains('report-reason')) {
        if (e.key === 'Enter') { e.preventDefault(); this.sendReport(li, Number(li.dataset.msg)); }
        else if (e.key === 'Escape') { e.preventDefault(); this.closeReport(li); }
      }
    });
  }

  openEditor(li) {
    if (li.querySelector('.edit-box')) return;
    const body = li.querySelector('.body');
    const box = el('div', 'edit-box');
    const input = el('textarea', 'edit-input');
    input.value = body.textContent;
    input.maxLength = MAX_BODY;
    input.rows = 2;
    input.setAttribute('aria-label', 'Edit message');
    const save = el('button', 'edit-save', 'Save');
    save.type = 'button';
    const cancel = el('button', 'edit-cancel', 'Cancel');
    cancel.type = 'button';
    box.append(input, save, cancel);
    body.hidden = true;
    body.after(box);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  closeEditor(li) {
    const box = li.querySelector('.edit-box');
    if (box) box.remove();
    li.querySelector('.body').hidden = false;
    const edit = li.querySelector('button.edit');
    if (edit) edit.focus();
  }

  async saveEdit(li, msg) {
    const input = li.querySelector('.edit-input');
    if (!input || input.disabled) return;
    const body = input.value.trim();
    if (!body || body === li.querySelector('.body').textContent) { this.closeEditor(li); return; }
    input.disabled = true;
    try {
      await this.editMessage(msg, body);
      this.timeline.setBody(li, body);
      this.closeEditor(li);
      this.composerError('');
    } catch (err) {
      input.disabled = false;
      this.composerError(err.message || 'Could not edit the message.');
    }
  }

  askDelete(li) {
    const actions = li.querySelector('.actions');
    if (actions.querySelector('.delete-confirm')) return;
    const del = actions.querySelector('button.delete');
    del.hidden = true;
    const yes = el('button', 'delete-confirm', 'Delete for everyone');
    yes.type = 'button';
    const no = el('button', 'delete-cancel', 'Keep');
    no.type = 'button';
    actions.append(yes, no);
    yes.focus();
  }

  closeDelete(li) {
    for (const b of li.querySelectorAll('.delete-confirm, .delete-cancel')) b.remove();
    const del = li.querySelector('button.delete');
    if (del) { del.hidden = false; del.focus(); }
  }

  async confirmDelete(li, msg) {
    const yes = li.querySelector('.delete-confirm');
    if (yes) yes.disabled = true;
    try {
      await this.deleteMessage(msg);
      this.timeline.remove(msg);
      this.composerError('');
    } catch (err) {
      if (err.code === 'not_found') { this.timeline.remove(msg); return; }
      this.closeDelete(li);
      this.composerError(err.message || 'Could not delete the message.');
    }
  }

  openReport(li) {
    const actions = li.querySelector('.actions');
    if (actions.querySelector('.report-reason')) return;
    actions.querySelector('button.report').hidden = true;
    const input = el('input', 'report-reason');
    input.type = 'text';
    input.maxLength = 500;
    input.placeholder = 'Why report this?';
    input.setAttribute('aria-label', 'Reason for the report');
    const send = el('button', 'report-send', 'Send report');
    send.type = 'button';
    actions.append(input, send);
    input.focus();
  }

  closeReport(li) {
    for (const n of li.querySelectorAll('.report-reason, .report-send')) n.remove();
    const b = li.querySelector('button.report');
    if (b) { b.hidden = false; b.focus(); }
  }

  async sendReport(li, msg) {
    const input = li.querySelector('.report-reason');
    const send = li.querySelector('.report-send');
    if (!input || send.disabled) return;
    send.disabled = true;
    try {
      await api('POST', `${this.base}/messages/${msg}/report`, { reason: input.value.trim() });
      const actions = li.querySelector('.actions');
      for (const n of actions.querySelectorAll('.report-reason, .report-send, button.report')) n.remove();
      actions.append(el('span', 'reported', 'Reported'));
      this.composerError('');
    } catch (err) {
      send.disabled = false;
      this.composerError(err.message || 'Could not send the report.');
    }
  }

  // --- scroll-back -------------------------------------------------------------

  setMore(more) {
    this.more = more;
    $('load-older').hidden = !more;
    $('history-status').textContent = more || !this.firstId ? '' : 'This is the start of the room.';
  }

  bindHistory() {
    const button = $('load-older');
    button.addEventListener('click', () => this.loadOlder());
    if ('IntersectionObserver' in window) {
      const io = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) this.loadOlder();
      }, { root: $('timeline-scroll'), rootMargin: '200px 0px 0px 0px' });
      io.observe($('history'));
    } else {
      $('timeline-scroll').addEventListener('scroll', (e) => { if (e.target.scrollTop < 100) this.loadOlder(); }, { passive: true });
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.more || !this.firstId) return;
    this.loadingOlder = true;
    const status = $('history-status');
    status.textContent = 'Loading older messages…';
    try {
      const h = await api('GET', `${this.base}/history?before=${this.firstId}&limit=${HISTORY_PAGE}`);
      const events = h.events || [];
      if (events.length) this.firstId = events[0].id;
      this.timeline.prepend(events);
      this.setMore(Boolean(h.more) && events.length > 0);
    } catch {
      status.textContent = 'Could not load older messages.';
    } finally {
      this.loadingOlder = false;
    }
  }
}

export { DOORS };
