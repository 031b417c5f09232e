// Single sign-on (OpenID Connect, docs/security.md): the "Sign in with SSO"
// button of a login form (#sso-btn, shown when the site has SSO) and the
// error messages of /api/sso in the user's language. The provider sends
// the browser back to /sso/ (web/sso/), which finishes the sign-in.
import { t } from './i18n.js';
import { $ } from './util.js';

// The message for an /api/sso error code (falls back to the code itself,
// named in a sentence that says what to do).
export function ssoError(code) {
  const k = `sso_err_${code}`;
  const s = t(k);
  return s === k ? t('sso_err_other', { code }) : s;
}

export async function bindSso() {
  const btn = $('sso-btn');
  let info = null;
  try {
    const r = await fetch('/api/sso');
    info = r.ok ? await r.json() : null;
  } catch { /* no SSO shown when the server cannot say */ }
  if (!info || !info.enabled) return;
  btn.hidden = false;
  btn.addEventListener('click', async () => {
    $('login-error').textContent = '';
    let r, j = {};
    try {
      r = await fetch('/api/sso/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      j = await r.json();
    } catch {
      $('login-error').textContent = ssoError('sso_unavailable');
      return;
    }
    if (r.status !== 200 || !j.url) { $('login-error').textContent = ssoError(j.error || String(r.status)); return; }
    window.location.assign(j.url);
  });
}
