// Small helpers the modules share: elements, times, the XSRF token, JSON
// calls and client keys.

// el makes an element with a class (or none) and optional text.
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// userName is views.UserName: the name, and a badge for a guest.
export function userName(name, guest) {
  const frag = document.createDocumentFragment();
  frag.append(el('span', 'user-name', name));
  if (guest) {
    const b = el('span', 'badge badge-guest', 'guest');
    b.title = 'Guest: signed in with a nickname only';
    frag.append(b);
  }
  return frag;
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// localTime rewrites a time[datetime] element in the reader's time zone:
// the time of day for today, the date as well otherwise.
export function localTime(t) {
  const d = new Date(t.getAttribute('datetime'));
  if (Number.isNaN(d.getTime())) return;
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const long = t.classList.contains('room-activity') && !sameDay(d, new Date());
  t.textContent = long ? `${d.toLocaleDateString([], { month: 'short', day: 'numeric', year: 'numeric' })} ${time}` : time;
  t.title = d.toLocaleString();
}

export function localTimes(root) {
  for (const t of root.querySelectorAll('time[datetime]')) localTime(t);
}

// xsrfToken is the _xsrf cookie's value, sent as X-XSRFToken.
export function xsrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === '_xsrf') return decodeURIComponent(v.join('='));
  }
  return '';
}

// ApiError is a refusal from the server: the protocol's error object with
// the HTTP status.
export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.error)) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || (status === 401 ? 'unauthorized' : '');
    this.retryAfter = body && body.retry_after;
  }
}

// api calls a JSON endpoint and resolves with the answer's JSON; it
// rejects with ApiError on a refusal and TypeError on a network failure.
export async function api(method, url, body, signal) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-XSRFToken'] = xsrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(url, {
    method, headers, signal, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await resp.json(); } catch { data = null; }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data);
    if (err.retryAfter === undefined) {
      const ra = Number(resp.headers.get('Retry-After'));
      if (ra > 0) err.retryAfter = ra;
    }
    throw err;
  }
  return data;
}

// newKey makes a client key: "k-" and 16 hex digits.
export function newKey(prefix = 'k-') {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return prefix + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
