// /sso/: where the identity provider sends the browser back
// (?code=...&state=... or ?error=...&state=...). Hands them to
// POST /api/sso/callback, which checks the state, redeems the code and
// verifies the ID token; then opens the page of the account's role, or
// says in the user's language what went wrong and what to do.
import { t, setLang, storedLang } from '/js/i18n.js';
import { $ } from '/js/util.js';
import { ssoError } from '/js/sso.js';

const PAGES = { agent: '/', supervisor: '/supervisor/', admin: '/admin/' };

function failed(msg) {
  $('sso-status').textContent = t('sso_failed');
  $('login-error').textContent = msg;
  $('sso-back').hidden = false;
  $('sso-back').focus();
}

async function finish() {
  const q = new URLSearchParams(window.location.search);
  const body = { state: q.get('state') || '' };
  if (q.get('error')) body.error = q.get('error');
  else body.code = q.get('code') || '';
  // the code is single use: gone from the address bar and the history
  window.history.replaceState(null, '', '/sso/');
  let r, j = {};
  try {
    r = await fetch('/api/sso/callback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    j = await r.json();
  } catch {
    failed(ssoError('sso_unavailable'));
    return;
  }
  if (r.status !== 200) { failed(ssoError(j.error || String(r.status))); return; }
  window.location.replace(PAGES[j.role] || '/');
}

await setLang(storedLang(), false);
finish();
