// The page for a path that names nothing (src/api/api.c, not_found_page):
// the server shows the language Accept-Language ranks first (Swedish by
// default); the language chosen on the desktop (js/i18n.js keeps it) wins.
let lang = null;
try { lang = localStorage.getItem('textdesk.lang'); } catch { /* private mode */ }
if (lang === 'sv' || lang === 'en') {
  for (const el of document.querySelectorAll('[data-lang]')) {
    el.hidden = el.dataset.lang !== lang;
    if (!el.hidden) document.title = el.dataset.title;
  }
  document.documentElement.lang = lang;
}
