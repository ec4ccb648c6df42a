// The connection to a room, through the best door that works
// (docs/protocol.md): WebSocket, then Server-Sent Events, then long poll.
//
// Rules (see the protocol and CONTRACT):
// - Every (re)connection resumes from the client's cursor (after=lastId).
// - Reconnects back off exponentially, 250 ms doubling to 10 s, with
//   jitter so a restarted server is not hit by every tab at once.
// - A door that fails to open twice in a row, or dies soon after opening
//   three times in a row, is given up for the next one; a WebSocket that is
//   missing or throws is given up at once.
// - After a minute healthy on a worse door, the better one is probed
//   beside it and taken over when it says hello.
// - Kicked (close 4000, SSE/poll error "kicked"): the reason is shown and
//   the client comes back after KICK_WAIT_MS. Session ended (4001,
//   session_ended, banned, 401): the client stops.

import { api, ApiError } from './util.js';

export const DOORS = ['ws', 'sse', 'poll'];
export const DOOR_NAMES = { ws: 'WebSocket', sse: 'Event stream', poll: 'Long poll' };

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10000;
// A connection open this long is healthy: its failures are forgotten.
const HEALTHY_MS = 10000;
// How long a worse door must be healthy before the better one is tried.
const UPGRADE_AFTER_MS = 60000;
const KICK_WAIT_MS = 30000;
const OPEN_FAILS_TO_FALL_BACK = 2;
const DEATHS_TO_FALL_BACK = 3;
// The long-poll door refreshes who is online this often (polls carry no
// presence events).
const POLL_PRESENCE_MS = 30000;

export function backoffDelay(attempt) {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

// serverAnswers reports whether the server answers HTTP at all (any
// status will do).
async function serverAnswers() {
  try {
    await fetch('/api/me', { method: 'GET', cache: 'no-store', credentials: 'same-origin' });
    return true;
  } catch {
    return false;
  }
}

export class Transport {
  // room: the room's name; cursor(): the last durable id applied;
  // on: { hello(h), event(ev), reset(lastId), ack(a), error(e),
  //       state(state, door, text), kicked(reason), ended(reason) }.
  constructor({ room, cursor, on }) {
    this.room = room;
    this.cursor = cursor;
    this.on = on;
    this.doorIndex = 0;
    this._state = 'connecting';
    this.conn = null;
    this.probe = null;
    this.attempt = 0;
    this.openFails = 0;
    this.deaths = 0;
    this.stopped = false;
    this.timers = {};
    window.addEventListener('online', () => { if (this.timers.retry) this.reconnectNow(); });
  }

  get door() { return DOORS[this.doorIndex]; }
  get state() { return this._state; }
  get live() { return this._state === 'live'; }

  start() { this.connect(); }

  stop() {
    this.stopped = true;
    for (const k of Object.keys(this.timers)) this.clear(k);
    if (this.conn) this.conn.close();
    if (this.probe) this.probe.close();
    this.conn = null;
    this.probe = null;
  }

  clear(name) {
    clearTimeout(this.timers[name]);
    clearInterval(this.timers[name]);
    delete this.timers[name];
  }

  setState(state, text) {
    this._state = state;
    this.on.state(state, this.door, text);
  }

  // sendFrame sends a client frame over a live WebSocket; false when the
  // current door is not one (the caller uses HTTP instead).
  sendFrame(frame) {
    if (!this.live || this.door !== 'ws' || !this.conn) return false;
    return this.conn.send(frame);
  }

  connect() {
    if (this.stopped) return;
    this.clear('retry');
    this.clear('countdown');
    if (this._state !== 'connecting') this.setState('reconnecting', 'Reconnecting…');
    else this.setState('connecting', 'Connecting…');
    const door = this.door;
    this.conn = this.open(door, {
      live: (conn) => this.onLive(conn),
      closed: (conn, info) => this.onClosed(conn, info),
    });
  }

  // open starts a connection through door; hooks.live runs when it is in
  // the room, hooks.closed once when it ends (not after close()).
  open(door, hooks) {
    const opener = { ws: openWebSocket, sse: openEventSource, poll: openLongPoll }[door];
    return opener(this, hooks);
  }

  onLive(conn) {
    if (conn !== this.conn) return;
    this.openFails = 0;
    conn.openedAt = Date.now();
    this.setState('live', `Live · ${DOOR_NAMES[this.door]}`);
    this.clear('healthy');
    this.timers.healthy = setTimeout(() => { this.attempt = 0; this.deaths = 0; }, HEALTHY_MS);
    this.scheduleUpgrade();
  }

  onClosed(conn, info) {
    if (conn === this.probe) return; // handled by the probe
    if (conn !== this.conn || this.stopped) return;
    this.conn = null;
    this.clear('healthy');
    this.clear('upgrade');
    if (this.probe) { this.probe.close(); this.probe = null; }
    if (info.ended) {
      this.stopped = true;
      this.setState('offline', 'Offline · signed out');
      this.on.ended(info.reason);
      return;
    }
    if (info.kicked) {
      this.on.kicked(info.reason);
      this.waitThenConnect(KICK_WAIT_MS);
      return;
    }
    if (info.resume) { // 1013: fell behind; come back at once with the cursor
      this.waitThenConnect(0);
      return;
    }
    const lived = conn.openedAt ? Date.now() - conn.openedAt : -1;
    if (info.unavailable) {
      this.openFails = OPEN_FAILS_TO_FALL_BACK;
    } else if (lived < 0) {
      // A door that did not open counts against it only when the server
      // answers plain HTTP: when nothing answers (a restart, the network
      // gone), every door would fail alike and falling back is no help.
      this.setState('reconnecting', 'Reconnecting…');
      serverAnswers().then((answers) => {
        if (this.stopped || this.conn) return;
        if (answers) this.openFails++;
        this.retry();
      });
      return;
    } else if (lived < HEALTHY_MS) {
      this.deaths++;
    }
    this.retry();
  }

  // retry falls back to the next door when this one has failed enough,
  // else comes back through it after the backoff.
  retry() {
    if ((this.openFails >= OPEN_FAILS_TO_FALL_BACK || this.deaths >= DEATHS_TO_FALL_BACK) && this.doorIndex < DOORS.length - 1) {
      this.doorIndex++;
      this.openFails = 0;
      this.deaths = 0;
      this.attempt = 0;
      this.connect();
      return;
    }
    const delay = backoffDelay(this.attempt);
    this.attempt++;
    this.waitThenConnect(delay);
  }

  waitThenConnect(delay) {
    if (this.stopped) return;
    if (delay <= 0) { this.setState('reconnecting', 'Reconnecting…'); this.connect(); return; }
    const until = Date.now() + delay;
    const tell = () => {
      const s = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      this.setState('reconnecting', `Reconnecting in ${s} s…`);
    };
    tell();
    this.clear('countdown');
    this.timers.countdown = setInterval(tell, 1000);
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.clear('retry');
    this.clear('countdown');
    this.connect();
  }

  scheduleUpgrade() {
    this.clear('upgrade');
    if (this.doorIndex === 0) return;
    this.timers.upgrade = setTimeout(() => this.tryUpgrade(), UPGRADE_AFTER_MS);
  }

  // tryUpgrade opens the next better door beside the current one and
  // switches to it once it is in the room; events both deliver are
  // applied once (the client skips ids at or below its cursor).
  tryUpgrade() {
    if (this.stopped || !this.live || this.doorIndex === 0 || this.probe) return;
    const better = this.doorIndex - 1;
    const probe = this.open(DOORS[better], {
      live: (conn) => {
        if (conn !== this.probe) return;
        this.probe = null;
        const old = this.conn;
        this.conn = conn;
        this.doorIndex = better;
        this.attempt = 0;
        this.deaths = 0;
        if (old) old.close();
        this.onLive(conn);
      },
      closed: (conn, info) => {
        if (conn === this.probe) {
          this.probe = null;
          this.scheduleUpgrade();
        } else {
          this.onClosed(conn, info);
        }
      },
    });
    if (probe.failedAtOnce) { // a WebSocket still missing or throwing
      this.scheduleUpgrade();
      return;
    }
    this.probe = probe;
  }

  // dispatch hands one server frame (any door) to the client.
  dispatch(conn, frame) {
    if (conn !== this.conn && conn !== this.probe) return;
    switch (frame.type) {
      case 'hello':
        this.on.hello(frame);
        break;
      case 'reset':
        this.on.reset(frame.last_id);
        break;
      case 'ack':
        if (conn === this.conn) this.on.ack(frame);
        break;
      case 'error':
        if (conn === this.conn) this.on.error(frame);
        break;
      default:
        this.on.event(frame);
    }
  }
}

function roomPath(t) {
  return `/api/rooms/${encodeURIComponent(t.room)}`;
}

// Each opener returns a connection { close(), send(frame)?, openedAt } and
// calls hooks.live(conn) when the door is in the room and
// hooks.closed(conn, info) once when it ends by itself; info says why:
// { kicked, ended, resume, unavailable, reason }.

function openWebSocket(t, hooks) {
  const conn = { openedAt: 0, closedByUs: false };
  let ws;
  let done = false;
  const finish = (info) => {
    if (done || conn.closedByUs) return;
    done = true;
    hooks.closed(conn, info);
  };
  conn.close = () => {
    conn.closedByUs = true;
    if (ws) try { ws.close(1000); } catch { /* already closed */ }
  };
  conn.send = (frame) => {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch { return false; }
  };
  try {
    if (typeof window.WebSocket !== 'function') throw new Error('no WebSocket');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new window.WebSocket(`${proto}//${location.host}${roomPath(t)}/ws?after=${t.cursor()}`);
  } catch {
    conn.failedAtOnce = true;
    // Reported after the caller has the connection object.
    queueMicrotask(() => finish({ unavailable: true }));
    return conn;
  }
  let hello = false;
  ws.onmessage = (e) => {
    let frame;
    try { frame = JSON.parse(e.data); } catch { return; }
    if (frame.type === 'hello' && !hello) {
      hello = true;
      t.dispatch(conn, frame);
      hooks.live(conn);
      return;
    }
    t.dispatch(conn, frame);
  };
  ws.onclose = (e) => {
    if (e.code === 4000) finish({ kicked: true, reason: e.reason || 'You were removed from the room.' });
    else if (e.code === 4001) finish({ ended: true, reason: e.reason || 'Your session ended.' });
    else if (e.code === 1013 && hello) finish({ resume: true });
    else finish({});
  };
  ws.onerror = () => { /* onclose follows */ };
  return conn;
}

function openEventSource(t, hooks) {
  const conn = { openedAt: 0, closedByUs: false };
  let done = false;
  let es;
  const finish = (info) => {
    if (done || conn.closedByUs) return;
    done = true;
    if (es) es.close();
    hooks.closed(conn, info);
  };
  conn.close = () => { conn.closedByUs = true; if (es) es.close(); };
  try {
    es = new EventSource(`${roomPath(t)}/stream?after=${t.cursor()}`);
  } catch {
    conn.failedAtOnce = true;
    queueMicrotask(() => finish({ unavailable: true }));
    return conn;
  }
  let hello = false;
  es.onmessage = (e) => {
    let frame;
    try { frame = JSON.parse(e.data); } catch { return; }
    if (frame.type === 'error') {
      if (frame.code === 'kicked') finish({ kicked: true, reason: frame.message });
      else if (frame.code === 'session_ended' || frame.code === 'banned') finish({ ended: true, reason: frame.message });
      else t.dispatch(conn, frame);
      return;
    }
    t.dispatch(conn, frame);
    if (frame.type === 'hello' && !hello) {
      hello = true;
      hooks.live(conn);
    }
  };
  // The browser would reconnect by itself; the transport does, with its
  // backoff and its own cursor.
  es.onerror = () => finish({});
  return conn;
}

function openLongPoll(t, hooks) {
  const conn = { openedAt: 0, closedByUs: false };
  let done = false;
  let abort = new AbortController();
  const finish = (info) => {
    if (done || conn.closedByUs) return;
    done = true;
    clearInterval(presence);
    abort.abort();
    hooks.closed(conn, info);
  };
  conn.close = () => { conn.closedByUs = true; clearInterval(presence); abort.abort(); };
  const refused = (err) => {
    if (!(err instanceof ApiError)) return {};
    if (err.status === 401 || err.code === 'session_ended' || err.code === 'banned') return { ended: true, reason: err.message };
    if (err.code === 'kicked') return { kicked: true, reason: err.message };
    return {};
  };
  const hello = async () => {
    const room = await api('GET', roomPath(t), undefined, abort.signal);
    t.dispatch(conn, { type: 'hello', room, online: room.people || [], online_count: room.online_count });
  };
  let presence = 0;
  const loop = async () => {
    try {
      await hello();
    } catch (err) {
      if (!conn.closedByUs) finish(refused(err));
      return;
    }
    hooks.live(conn);
    presence = setInterval(() => { hello().catch(() => {}); }, POLL_PRESENCE_MS);
    while (!done && !conn.closedByUs) {
      let answer;
      try {
        answer = await api('GET', `${roomPath(t)}/events?after=${t.cursor()}`, undefined, abort.signal);
      } catch (err) {
        if (!conn.closedByUs) finish(refused(err));
        return;
      }
      if (conn.closedByUs) return;
      if (answer.type === 'reset') {
        t.dispatch(conn, answer);
        continue;
      }
      for (const ev of answer.events || []) t.dispatch(conn, ev);
      if (answer.last_id !== undefined) t.dispatch(conn, { type: 'cursor', last_id: answer.last_id });
    }
  };
  loop();
  return conn;
}
