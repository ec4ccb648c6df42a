// The timeline: ol#timeline, rendered with the markup of views/room.templ
// (MessageItem, NoticeItem) from the protocol's events. User text only ever
// goes in through textContent (see text.js fillBody).

import { el, userName, localTime } from './util.js';
import { fillBody, mentions } from './text.js';

// noticeText tells a room event's changes in words.
export function noticeText(changes) {
  const c = changes || {};
  const parts = [];
  if ('title' in c) parts.push(`renamed the room to “${c.title}”`);
  if ('topic' in c) parts.push(c.topic ? `set the topic to “${c.topic}”` : 'cleared the topic');
  if ('locked' in c) parts.push(c.locked ? 'locked the room' : 'unlocked the room');
  if ('archived' in c) parts.push(c.archived ? 'archived the room' : 'unarchived the room');
  if ('slow_mode' in c) parts.push(c.slow_mode > 0 ? `set slow mode to ${c.slow_mode} s` : 'turned slow mode off');
  if (parts.length === 0) return 'changed the room';
  if (parts.length === 1) return parts[0];
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function timeEl(ts) {
  const t = el('time', 'ts');
  t.setAttribute('datetime', ts || new Date().toISOString());
  localTime(t);
  return t;
}

const NEAR_BOTTOM_PX = 48;

export class Timeline {
  // list: ol#timeline; scroller: its scrolling container; hint: the
  // "new messages" button; me: the reader's name; canModerate: delete is
  // offered on every message.
  constructor({ list, scroller, hint, me, canModerate, onRoom }) {
    this.list = list;
    this.scroller = scroller;
    this.hint = hint;
    this.me = me;
    this.canModerate = canModerate;
    this.onRoom = onRoom || (() => {});
    // Edits and deletes of messages not shown (older than the timeline's
    // start), applied when scroll-back brings the message in.
    this.later = new Map();
    this.seen = new Set();
    for (const li of list.querySelectorAll('[data-id]')) this.seen.add(Number(li.dataset.id));
    // stuck: the reader is at the bottom, where a resize (a rotated phone,
    // an opened keyboard) keeps them.
    this.stuck = true;
    scroller.addEventListener('scroll', () => {
      this.stuck = this.atBottom();
      if (this.stuck && hint) hint.hidden = true;
    }, { passive: true });
    if (hint) hint.addEventListener('click', () => this.toBottom());
    if ('ResizeObserver' in window) {
      new ResizeObserver(() => { if (this.stuck) this.scroller.scrollTop = this.scroller.scrollHeight; }).observe(scroller);
    }
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= NEAR_BOTTOM_PX;
  }

  toBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.stuck = true;
    if (this.hint) this.hint.hidden = true;
  }

  // Keeps the reader at the bottom when they were there before a change
  // that added below, else tells them something new came.
  follow(wasAtBottom, added) {
    if (wasAtBottom) this.toBottom();
    else if (added && this.hint) this.hint.hidden = false;
    const empty = document.getElementById('timeline-empty');
    if (empty && this.list.children.length > 0) empty.remove();
  }

  messageNode(ev) {
    const own = ev.user === this.me;
    const li = el('li', 'msg');
    li.id = `m-${ev.msg}`;
    li.dataset.msg = String(ev.msg);
    li.dataset.id = String(ev.id);
    li.dataset.user = ev.user;
    if (own) li.classList.add('own');
    if (!own && mentions(ev.body, this.me)) li.classList.add('mention');
    const author = el('span', 'author');
    author.append(userName(ev.user, ev.guest));
    const body = el('div', 'body');
    fillBody(body, ev.body);
    li.append(author, timeEl(ev.ts), body);
    if (ev.edited) li.append(el('span', 'edited', '(edited)'));
    const actions = el('div', 'actions');
    if (own) actions.append(button('edit', 'Edit'));
    if (own || this.canModerate) actions.append(button('delete', 'Delete'));
    if (!own) actions.append(button('report', 'Report'));
    li.append(actions);
    return li;
  }

  noticeNode(ev) {
    const li = el('li', 'notice');
    li.id = `e-${ev.id}`;
    li.dataset.id = String(ev.id);
    if (ev.by) li.append(el('span', 'user-name', ev.by), ' ');
    li.append(`${noticeText(ev.changes)} `, timeEl(ev.ts));
    return li;
  }

  // firstPending is where real items go: before the outbox's items.
  firstPending() {
    return this.list.querySelector(':scope > li.pending');
  }

  insertLive(li) {
    this.list.insertBefore(li, this.firstPending());
  }

  // apply applies one live durable event; it answers whether anything
  // new was shown (for the "new messages" hint). Events already applied
  // (by event id, or a message by its id) are skipped.
  apply(ev) {
    if (ev.id !== undefined) {
      if (this.seen.has(ev.id)) return false;
      this.seen.add(ev.id);
    }
    const wasAtBottom = this.atBottom();
    let added = false;
    switch (ev.type) {
      case 'message': {
        if (ev.deleted) { this.later.set(ev.msg, { deleted: true }); break; }
        if (document.getElementById(`m-${ev.msg}`)) break;
        const li = this.messageNode(ev);
        this.applyLater(li, ev.msg);
        if (!li.isConnected && li.dataset.gone) break;
        this.insertLive(li);
        added = ev.user !== this.me;
        break;
      }
      case 'edit':
        this.edit(ev.msg, ev.body);
        break;
      case 'delete':
        this.remove(ev.msg);
        break;
      case 'room':
        this.insertLive(this.noticeNode(ev));
        this.onRoom(ev.changes || {});
        added = true;
        break;
      default:
        return false;
    }
    this.follow(wasAtBottom || (ev.type === 'message' && ev.user === this.me), added);
    return added;
  }

  edit(msg, body) {
    const li = document.getElementById(`m-${msg}`);
    if (!li || li.classList.contains('pending')) {
      const prev = this.later.get(msg);
      if (!prev || !prev.deleted) this.later.set(msg, { body });
      return;
    }
    if (!body) return; // a replayed edit of a message deleted since
    this.setBody(li, body);
  }

  setBody(li, body) {
    fillBody(li.querySelector('.body'), body);
    if (!li.querySelector('.edited')) li.querySelector('.body').after(el('span', 'edited', '(edited)'));
    li.classList.toggle('mention', li.dataset.user !== this.me && mentions(body, this.me));
  }

  remove(msg) {
    const li = document.getElementById(`m-${msg}`);
    if (li && !li.classList.contains('pending')) li.remove();
    else this.later.set(msg, { deleted: true });
  }

  applyLater(li, msg) {
    const change = this.later.get(msg);
    if (!change) return;
    this.later.delete(msg);
    if (change.deleted) li.dataset.gone = '1';
    else if (change.body) this.setBody(li, change.body);
  }

  // build folds a page of events (oldest first) into nodes, without the
  // ones it deletes; edits and deletes of messages outside the page are
  // remembered for when those come in.
  build(events) {
    const nodes = [];
    const byMsg = new Map();
    const pageLater = new Map();
    for (const ev of events) {
      if (ev.id !== undefined) {
        if (this.seen.has(ev.id)) continue;
        this.seen.add(ev.id);
      }
      switch (ev.type) {
        case 'message': {
          if (ev.deleted || document.getElementById(`m-${ev.msg}`) || byMsg.has(ev.msg)) break;
          const li = this.messageNode(ev);
          byMsg.set(ev.msg, li);
          nodes.push(li);
          break;
        }
        case 'edit': {
          const li = byMsg.get(ev.msg);
          if (li) { if (ev.body) this.setBody(li, ev.body); } else pageLater.set(ev.msg, { body: ev.body });
          break;
        }
        case 'delete': {
          const li = byMsg.get(ev.msg);
          if (li) li.dataset.gone = '1'; else pageLater.set(ev.msg, { deleted: true });
          break;
        }
        case 'room':
          nodes.push(this.noticeNode(ev));
          break;
        default:
      }
    }
    for (const [msg, li] of byMsg) this.applyLater(li, msg);
    for (const [msg, change] of pageLater) if (!this.later.has(msg)) this.later.set(msg, change);
    return nodes.filter((li) => !li.dataset.gone);
  }

  // prepend puts an older page of history above what is shown, keeping
  // what the reader looks at in place.
  prepend(events) {
    const nodes = this.build(events);
    if (nodes.length === 0) return 0;
    const s = this.scroller;
    const before = s.scrollHeight;
    const top = s.scrollTop;
    const frag = document.createDocumentFragment();
    frag.append(...nodes);
    this.list.prepend(frag);
    s.scrollTop = top + (s.scrollHeight - before);
    return nodes.length;
  }

  // replace drops every shown item but the outbox's and shows events
  // instead (after a reset).
  replace(events) {
    for (const li of [...this.list.children]) if (!li.classList.contains('pending')) li.remove();
    this.seen.clear();
    this.later.clear();
    const frag = document.createDocumentFragment();
    frag.append(...this.build(events));
    this.list.insertBefore(frag, this.firstPending());
    this.toBottom();
  }

  // Pending items: an outbox entry, shown below every real item.
  pendingNode(key) {
    return this.list.querySelector(`:scope > li.pending[data-key="${CSS.escape(key)}"]`);
  }

  showPending(item, meGuest) {
    const wasAtBottom = this.atBottom();
    let li = this.pendingNode(item.key);
    if (!li) {
      li = el('li', 'msg own pending');
      li.dataset.key = item.key;
      li.dataset.user = this.me;
      const author = el('span', 'author');
      author.append(userName(this.me, meGuest));
      const body = el('div', 'body');
      fillBody(body, item.body);
      li.append(author, timeEl(new Date(item.at).toISOString()), body, el('span', 'state', 'Sending…'));
      this.list.append(li);
    }
    this.follow(wasAtBottom || true, false);
    return li;
  }

  pendingState(key, state) {
    const li = this.pendingNode(key);
    if (!li) return;
    const failed = state.failed;
    li.classList.toggle('failed', Boolean(failed));
    li.querySelector('.state').textContent = failed ? `Failed: ${failed}` : (state.text || 'Sending…');
    let actions = li.querySelector('.actions');
    if (failed && !actions) {
      actions = el('div', 'actions');
      actions.append(button('retry', 'Retry'), button('discard', 'Discard'));
      li.append(actions);
    } else if (!failed && actions) {
      actions.remove();
    }
  }

  dropPending(key) {
    const li = this.pendingNode(key);
    if (li) li.remove();
  }

  // First and last event ids shown, for scroll-back.
  firstId() {
    const first = this.list.querySelector(':scope > li[data-id]');
    return first ? Number(first.dataset.id) : 0;
  }
}

function button(cls, text) {
  const b = el('button', cls, text);
  b.type = 'button';
  return b;
}
