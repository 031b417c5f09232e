// The first script of the desktop, supervisor, admin and reports pages: a
// classic script, run before the page's module. A page whose pieces did not
// all load (a module or its dictionary refused or cut off, as when the node
// serving it stops leading and the load balancer has no leader for a
// moment: docs/operations.md, "High availability") would stay blank, its
// login and its page both hidden, saying nothing. Instead, until the page
// shows its login or its work, a script that did not load or a start that
// failed puts a line on the screen and loads the page again after
// RELOAD_MS. The line is in the language chosen before (the dictionary
// may be what did not load), Swedish otherwise.
(function boot() {
  var RELOAD_MS = 2000;
  var TEXT = {
    sv: 'Sidan kunde inte laddas helt (servern svarade inte). Den laddas om strax.',
    en: 'The page did not load completely (the server did not answer). It will reload in a moment.',
  };
  var failed = false;

  // the page runs: its login card or its work is on screen
  function started() {
    return !!document.querySelector('#login:not([hidden]), #app:not([hidden]), #desk:not([hidden])');
  }

  function fail() {
    if (failed || started()) return false;
    failed = true;
    var lang = 'sv';
    try { if (localStorage.getItem('textdesk.lang') === 'en') lang = 'en'; } catch (e) { /* private mode */ }
    var p = document.createElement('p');
    p.id = 'boot-error';
    p.className = 'boot-error';
    p.setAttribute('role', 'alert');
    p.lang = lang;
    p.textContent = TEXT[lang];
    var show = function () { document.body.appendChild(p); };
    if (document.body) show(); else document.addEventListener('DOMContentLoaded', show);
    setTimeout(function () { location.reload(); }, RELOAD_MS);
    return true;
  }

  // a script (or a module it imports) that did not load: the error event
  // does not bubble, so it is taken on the way down
  window.addEventListener('error', function (e) {
    if (e.target && e.target.tagName === 'SCRIPT') fail();
  }, true);
  // the page's start rejected (its dictionary did not load): handled here
  window.addEventListener('unhandledrejection', function (e) {
    if (fail()) e.preventDefault();
  });
}());
