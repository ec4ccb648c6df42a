// Message text rules shared with the server (views/text.go): which parts of
// a body are links, and whether a body mentions a user. Keep both in step
// with the Go versions.

const SCHEMES = ['https://', 'http://'];
const LINK_END = ' \t\n\r\f\v<>"\'`';
const TRAILING = '.,;:!?';

function isAlnum(c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

function isNameChar(c) {
  return isAlnum(c) || c === '_' || c === '.' || c === '-';
}

function endsLink(c) {
  const code = c.charCodeAt(0);
  return LINK_END.includes(c) || code < 0x20 || code === 0x7f;
}

function count(s, c) {
  let n = 0;
  for (const ch of s) if (ch === c) n++;
  return n;
}

function schemeAt(body, i) {
  if (body[i] !== 'h' || (i > 0 && isAlnum(body[i - 1]))) return 0;
  for (const s of SCHEMES) if (body.startsWith(s, i)) return s.length;
  return 0;
}

function trimLinkEnd(body, start, end) {
  while (end > start) {
    const c = body[end - 1];
    if (TRAILING.includes(c)) { end--; continue; }
    if (c === ')') {
      const link = body.slice(start, end);
      if (count(link, ')') > count(link, '(')) { end--; continue; }
    }
    break;
  }
  return end;
}

// segments splits body into [{text}] and [{url}] pieces whose
// concatenation is body: links start with http:// or https://.
export function segments(body) {
  const out = [];
  let text = 0;
  let i = 0;
  while (i < body.length) {
    const n = schemeAt(body, i);
    if (n === 0) { i++; continue; }
    let end = i + n;
    while (end < body.length && !endsLink(body[end])) end++;
    end = trimLinkEnd(body, i, end);
    if (end <= i + n) { i += n; continue; }
    if (text < i) out.push({ text: body.slice(text, i) });
    out.push({ url: body.slice(i, end) });
    text = end;
    i = end;
  }
  if (text < body.length) out.push({ text: body.slice(text) });
  return out;
}

function lowerASCII(c) {
  return c >= 'A' && c <= 'Z' ? String.fromCharCode(c.charCodeAt(0) + 32) : c;
}

// mentions reports whether body holds "@name" (ASCII case folded) not
// followed by a name character.
export function mentions(body, name) {
  if (!name) return false;
  const want = Array.from(name, lowerASCII).join('');
  for (let i = 0; i + 1 + name.length <= body.length; i++) {
    if (body[i] !== '@') continue;
    let same = true;
    for (let k = 0; k < name.length; k++) {
      if (lowerASCII(body[i + 1 + k]) !== want[k]) { same = false; break; }
    }
    if (!same) continue;
    const next = i + 1 + name.length;
    if (next === body.length || !isNameChar(body[next])) return true;
  }
  return false;
}

// fillBody replaces el's children with body's text and links.
export function fillBody(el, body) {
  el.replaceChildren();
  for (const s of segments(body)) {
    if (s.url) {
      const a = document.createElement('a');
      a.href = s.url;
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      a.textContent = s.url;
      el.append(a);
    } else {
      el.append(document.createTextNode(s.text));
    }
  }
}
