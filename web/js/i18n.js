// i18n: Swedish (default) and English from /i18n/<lang>.json. The choice is
// remembered in localStorage. Static text is marked up with data-i18n
// (textContent), data-i18n-label (aria-label), data-i18n-placeholder and
// data-i18n-title; dynamic text calls t().
const KEY = 'textdesk.lang';
export const LANGS = ['sv', 'en'];
let lang = 'sv';
let dict = {};
const listeners = [];

export function currentLang() { return lang; }

export function storedLang() {
  try {
    const l = localStorage.getItem(KEY);
    return LANGS.includes(l) ? l : 'sv';
  } catch { return 'sv'; }
}

// t('waiting', {time: '01:02'}): unknown keys show as the key itself so a
// missing string is visible rather than silently blank.
export function t(key, vars) {
  let s = Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const b of root.querySelectorAll('.lang-btn')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  document.documentElement.lang = lang;
}

export async function setLang(l, remember = true) {
  if (!LANGS.includes(l)) l = 'sv';
  const r = await fetch(`i18n/${l}.json`);
  // refused (a load balancer with no leader for a moment answers with a
  // page of its own): the page's start fails here, as an error of ours
  // (Chromium raises no unhandledrejection for Response.json's
  // SyntaxError), so js/boot.js loads the page again
  if (!r.ok) throw new Error(`i18n/${l}.json: ${r.status}`);
  dict = await r.json();
  lang = l;
  if (remember) {
    try { localStorage.setItem(KEY, l); } catch { /* private mode */ }
  }
  applyStatic();
  for (const f of listeners) f(l);
}

export function onLang(f) { listeners.push(f); }
