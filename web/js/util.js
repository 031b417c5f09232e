// Small helpers without state.
export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

// A phone number as people write it ("+46 70 123 45 67", "070-123 45 67",
// "(08) 123 456"): blanks, dashes and brackets go when what is left is a
// number (an optional + and digits); any other text is sent trimmed, as
// typed, and the server says what is wrong with it ('invalid'). The
// desktop's outbound number, the admin page's entry point number and
// customer number (export, erasure) go through it.
export function phoneNumber(v) {
  const s = v.replace(/[\s\-()]/g, '');
  return /^\+?\d+$/.test(s) ? s : v.trim();
}

// mm:ss, or h:mm:ss past an hour.
export function dur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${String(m).padStart(2, '0')}:${ss}`;
}

export function clock(ms, lang) {
  return new Date(ms).toLocaleTimeString(lang === 'en' ? 'en-GB' : 'sv-SE', { hour: '2-digit', minute: '2-digit' });
}

// Initials for the customer's avatar: from the display name when there is
// one, else the number's last two digits.
export function initials(name, number) {
  const n = (name || '').trim();
  if (n && !/^[+\d\s()-]+$/.test(n)) {
    const parts = n.split(/\s+/).filter(Boolean);
    return ((parts[0] || '')[0] + ((parts[1] || '')[0] || '')).toUpperCase();
  }
  const d = String(number || n).replace(/\D/g, '');
  return d.slice(-2) || '?';
}

export function matches(text, q) {
  return !q || text.toLocaleLowerCase().includes(q.trim().toLocaleLowerCase());
}

// Says 'text' to screen readers through the page's live regions
// (#live-polite, #live-assertive) without moving focus. The last few
// announcements stay in the region (tests read them there).
export function announce(text, assertive = false) {
  const box = document.getElementById(assertive ? 'live-assertive' : 'live-polite');
  if (!box || !text) return;
  box.append(el('p', { text }));
  while (box.children.length > 5) box.firstChild.remove();
}

// Whether 'e' can take focus now: attached, shown, enabled.
export function focusable(e) {
  return !!e && e.isConnected && !e.disabled && !e.closest('[hidden]') && e.getClientRects().length > 0;
}

// A card whose table is wider than the screen scrolls sideways inside it:
// such a card takes a Tab stop so the keyboard can scroll it too (the
// card's heading names it); one that fits takes none.
export function keyboardScroll(sel = '.card') {
  for (const e of document.querySelectorAll(sel)) {
    if (e.scrollWidth > e.clientWidth + 1) e.tabIndex = 0;
    else e.removeAttribute('tabindex');
  }
}

// A line that tells the user something (an error, a status), by id: kept as
// how to word it, so that a change of language words it anew (resay, from
// the page's onLang) instead of leaving it in the language it was said in.
const said = new Map();
export function say(id, make) {
  said.set(id, make);
  $(id).textContent = make();
}
export function resay() {
  for (const [id, make] of said) $(id).textContent = make();
}
