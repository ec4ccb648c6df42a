// The live panel's script (views/admin_live.templ, admin/live.go): it
// opens the panel's WebSocket, keeps the samples of the last ten minutes,
// writes each figure's value and redraws its sparkline (inline SVG built
// with createElementNS; text only through textContent), and fills the
// executors' and the slow callbacks' tables. It reconnects with a growing
// delay, and stops when the server closed the socket because the viewer
// may no longer watch (4001 session ended, 4003 no longer staff).
//
// window.adminLive = { get state(), get last() } lets e2e tests watch it.

import { el, localTime } from './util.js';

const SVG = 'http://www.w3.org/2000/svg';
const WINDOW_MS = 10 * 60 * 1000; // what a sparkline spans
const WIDTH = 600; // the sparkline's viewBox: one unit a second
const HEIGHT = 40;
const KEEP = 600; // samples kept
const REFUSED = new Set([4001, 4003]); // closes after which retrying is useless
const MAX_DELAY = 30;

// format writes a value in its unit, short enough for a table cell.
export function format(value, unit) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  switch (unit) {
    case 'ms':
      return value >= 100 ? `${value.toFixed(0)} ms` : value >= 1 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
    case 'ratio':
      return `${(value * 100).toFixed(1)} %`;
    case 'bytes': {
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
      let v = value;
      let i = 0;
      while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
      return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
    }
    case 'per_s':
      return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)}/s`;
    default:
      return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
}

// sparkPoints turns samples into a polyline's points: x by the sample's
// age (the newest at the right edge), y scaled so the window's largest
// value touches the top; all figures are zero or more.
export function sparkPoints(samples, key) {
  if (samples.length === 0) return { points: '', max: 0 };
  const newest = samples[samples.length - 1].at;
  let max = 0;
  for (const s of samples) max = Math.max(max, Number(s[key]) || 0);
  const pts = [];
  for (const s of samples) {
    const age = newest - s.at;
    if (age > WINDOW_MS) continue;
    const x = WIDTH - (age / WINDOW_MS) * WIDTH;
    const v = Number(s[key]) || 0;
    const y = HEIGHT - 2 - (max > 0 ? (v / max) * (HEIGHT - 4) : 0);
    pts.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  }
  return { points: pts.join(' '), max };
}

function drawSpark(svg, samples, key, unit, label) {
  const { points, max } = sparkPoints(samples, key);
  let line = svg.querySelector('polyline');
  if (!line) {
    const title = document.createElementNS(SVG, 'title');
    line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', 'currentColor');
    line.setAttribute('stroke-width', '1.5');
    line.setAttribute('vector-effect', 'non-scaling-stroke');
    svg.append(title, line);
  }
  line.setAttribute('points', points);
  svg.querySelector('title').textContent = `${label}: at most ${format(max, unit)} over the last 10 minutes`;
}

function cell(text, className) {
  return el('td', className, text);
}

class Panel {
  constructor(section) {
    this.section = section;
    this.url = section.dataset.socket || '/admin/live/ws';
    this.status = document.getElementById('live-status');
    this.rows = Array.from(section.querySelectorAll('tr.live-figure'), (tr) => ({
      key: tr.dataset.key,
      unit: tr.dataset.unit,
      label: tr.querySelector('.live-label')?.textContent || tr.dataset.key,
      value: tr.querySelector('.live-value'),
      svg: tr.querySelector('svg.spark'),
    }));
    this.executors = section.querySelector('#live-executors tbody');
    this.slow = section.querySelector('#live-slow tbody');
    this.slowEmpty = section.querySelector('#live-slow-empty');
    this.samples = [];
    this.state = 'connecting';
    this.failures = 0;
    this.ws = null;
  }

  setState(state, text) {
    this.state = state;
    if (this.status) {
      this.status.dataset.state = state;
      this.status.textContent = text;
    }
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}${this.url}`);
    } catch (err) {
      this.retryLater();
      return;
    }
    this.ws = ws;
    ws.addEventListener('message', (ev) => this.onFrame(ev.data));
    ws.addEventListener('close', (ev) => {
      this.ws = null;
      if (REFUSED.has(ev.code)) {
        this.setState('offline', ev.reason || 'The server closed the panel.');
        return;
      }
      this.retryLater();
    });
  }

  retryLater() {
    this.failures++;
    const base = Math.min(MAX_DELAY, 2 ** Math.min(this.failures - 1, 5));
    let left = Math.max(1, Math.round(base * (0.8 + Math.random() * 0.4)));
    const tick = () => {
      if (left <= 0) {
        this.setState('connecting', 'Connecting…');
        this.connect();
        return;
      }
      this.setState('reconnecting', `Reconnecting in ${left} s…`);
      left--;
      setTimeout(tick, 1000);
    };
    tick();
  }

  onFrame(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (frame.type === 'history') {
      this.samples = Array.isArray(frame.samples) ? frame.samples.slice(-KEEP) : [];
      this.failures = 0;
      this.setState('live', 'Live');
      if (this.samples.length > 0) this.render(this.samples[this.samples.length - 1]);
    } else if (frame.type === 'sample') {
      this.samples.push(frame);
      if (this.samples.length > KEEP) this.samples.splice(0, this.samples.length - KEEP);
      this.render(frame);
    }
  }

  render(latest) {
    for (const r of this.rows) {
      if (r.value) r.value.textContent = format(latest[r.key], r.unit);
      if (r.svg) drawSpark(r.svg, this.samples, r.key, r.unit, r.label);
    }
    if (this.executors && Array.isArray(latest.executors)) {
      this.executors.replaceChildren(...latest.executors.map((x) => {
        const tr = el('tr');
        tr.append(
          el('th', null, x.name),
          cell(`${x.busy} of ${x.workers}`),
          cell(`${x.queue} of ${x.capacity}`),
          cell(format(x.rejected_per_s, 'per_s')),
          cell(String(x.rejected)),
          cell(String(x.completed)),
        );
        tr.firstChild.scope = 'row';
        return tr;
      }));
    }
    // History samples carry no slow list (null): the table waits for a sample.
    if (this.slow && Array.isArray(latest.slow)) {
      this.slow.replaceChildren(...latest.slow.map((c) => {
        const tr = el('tr');
        const t = el('time');
        t.setAttribute('datetime', new Date(c.at).toISOString());
        t.textContent = new Date(c.at).toISOString();
        localTime(t);
        const when = el('td');
        when.append(t);
        const where = el('td');
        where.append(el('code', null, c.where));
        tr.append(when, cell(format(c.ms, 'ms')), where);
        return tr;
      }));
      if (this.slowEmpty) this.slowEmpty.hidden = latest.slow.length > 0;
    }
  }
}

function main() {
  const section = document.getElementById('live');
  if (!section) return;
  const panel = new Panel(section);
  window.adminLive = {
    get state() { return panel.state; },
    get last() { return panel.samples[panel.samples.length - 1] || null; },
  };
  panel.connect();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
