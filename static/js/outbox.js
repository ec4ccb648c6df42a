// The outbox: messages typed but not yet acknowledged, kept in
// sessionStorage under "outbox:ROOM" as [{key, body, at}] so a reload or a
// lost connection does not lose them. Each is sent with its key, one at a
// time in order, and sent again with the same key after every reconnect
// until acknowledged; the server's idempotency on keys makes a resend
// harmless. The author's own event with the key (or the ack's message id)
// replaces the pending item, so a message never shows twice.

import { newKey } from './util.js';

// Refusals that will not change by retrying: the item is marked failed
// with the server's words, and the reader retries or discards it.
const PERMANENT = new Set(['too_long', 'invalid', 'forbidden', 'locked', 'archived', 'muted', 'banned', 'not_found', 'unauthorized']);
// Refusals that pass: the outbox waits retry_after seconds and resends.
const TRANSIENT = new Set(['rate_limited', 'slow_mode', 'busy', 'unavailable']);
const NETWORK_RETRY_S = 2;

export class Outbox {
  // deliver(item) resolves with the ack or rejects with an error carrying
  // code, message and retryAfter (code "disconnected": the door went away);
  // canSend() says whether a door is live; view shows the items (see
  // room.js); status(text) shows the composer's error line.
  constructor({ room, deliver, canSend, view, status }) {
    this.storageKey = `outbox:${room}`;
    this.deliver = deliver;
    this.canSend = canSend;
    this.view = view;
    this.status = status;
    this.failed = new Map(); // key -> reason
    this.ackedMsgs = new Map(); // msg id -> key, acked but not yet seen
    this.running = false;
    this.items = this.load();
  }

  load() {
    try {
      const v = JSON.parse(sessionStorage.getItem(this.storageKey) || '[]');
      return Array.isArray(v) ? v.filter((i) => i && typeof i.key === 'string' && typeof i.body === 'string') : [];
    } catch {
      return [];
    }
  }

  save() {
    try {
      if (this.items.length) sessionStorage.setItem(this.storageKey, JSON.stringify(this.items));
      else sessionStorage.removeItem(this.storageKey);
    } catch { /* storage full or denied: the outbox still works for this page */ }
  }

  list() {
    return this.items.map(({ key, body, at }) => ({ key, body, at }));
  }

  has(key) {
    return this.items.some((i) => i.key === key);
  }

  // showAll shows what a previous page left unsent.
  showAll() {
    for (const item of this.items) this.view.show(item);
  }

  add(body) {
    const item = { key: newKey(), body, at: Date.now() };
    this.items.push(item);
    this.save();
    this.view.show(item);
    this.pump();
    return item;
  }

  forget(key) {
    this.items = this.items.filter((i) => i.key !== key);
    this.failed.delete(key);
    this.save();
  }

  // seen: the author's own message event arrived; it replaces the item.
  // It answers whether the event was one of ours.
  seen(ev) {
    let ours = false;
    if (ev.key && this.has(ev.key)) {
      this.forget(ev.key);
      this.view.drop(ev.key);
      ours = true;
    }
    const key = this.ackedMsgs.get(ev.msg);
    if (key !== undefined) {
      this.ackedMsgs.delete(ev.msg);
      this.view.drop(key);
      ours = true;
    } else if (ev.key) {
      this.view.drop(ev.key);
    }
    return ours;
  }

  acked(item, ack) {
    if (!this.has(item.key)) return; // its event came first
    this.forget(item.key);
    if (this.view.shown(ack.msg)) this.view.drop(item.key);
    else {
      this.ackedMsgs.set(ack.msg, item.key);
      this.view.state(item.key, { text: 'Sent' });
    }
  }

  retry(key) {
    this.failed.delete(key);
    this.view.state(key, {});
    this.pump();
  }

  discard(key) {
    this.forget(key);
    this.view.drop(key);
  }

  next() {
    return this.items.find((i) => !this.failed.has(i.key));
  }

  // pump sends the items in order while a door is live; it is called on
  // every (re)connection and whenever an item is added or retried.
  async pump() {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (!this.canSend()) return;
        const item = this.next();
        if (!item) return;
        try {
          const ack = await this.deliver(item);
          this.status('');
          this.acked(item, ack || {});
        } catch (err) {
          const code = err.code || '';
          if (PERMANENT.has(code)) {
            this.failed.set(item.key, err.message || code);
            this.view.state(item.key, { failed: err.message || code });
            continue;
          }
          if (code === 'disconnected') return; // the next connection resumes
          const wait = TRANSIENT.has(code) ? Math.max(1, Number(err.retryAfter) || 1) : NETWORK_RETRY_S;
          await this.countdown(TRANSIENT.has(code) ? err.message : 'Could not send.', wait);
        }
      }
    } finally {
      this.running = false;
    }
  }

  // countdown shows words with the seconds left until the resend.
  countdown(words, seconds) {
    return new Promise((resolve) => {
      const until = Date.now() + seconds * 1000;
      const tell = () => {
        const left = Math.ceil((until - Date.now()) / 1000);
        if (left <= 0) {
          clearInterval(timer);
          this.status('');
          resolve();
          return;
        }
        this.status(`${words} Retrying in ${left} s…`);
      };
      const timer = setInterval(tell, 250);
      tell();
    });
  }
}
