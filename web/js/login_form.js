// The login form of every page: the desktop, admin, supervisor and reports (#login-form with
// #login-user, #login-pass and #login-error): posts /api/login and calls
// 'onIn' when the server lets the user in; errors show under the form.
// The single sign-on button (#sso-btn) shows when the site has it (sso.js).
import { t } from '/js/i18n.js';
import { $ } from '/js/util.js';
import { bindSso } from '/js/sso.js';

// What a refused POST /api/login says to the user: a wrong password, a
// role that signs in with SSO only, or a throttled try (429, how long to wait).
export async function loginError(r) {
  if (r.status === 401) return t('login_failed');
  if (r.status === 403) return t('password_login_off');
  if (r.status === 429) {
    const j = await r.json().catch(() => ({}));
    return t('login_wait', { s: Number.isInteger(j.retry_after_s) ? j.retry_after_s : 1 });
  }
  return t('login_error', { msg: r.status });
}

// The page's start (its session, its first read) answered by no server
// (status 0) or by none leading (503 and the like: a takeover under way
// behind the load balancer, docs/operations.md): true, and 'start' runs
// again RETRY_MS later, so a session just taken is not shown the login
// card as if it had none; false for an answer the page must act on.
const RETRY_MS = 2000;
let retry = null;
export function startAgain(status, start) {
  clearTimeout(retry);
  if (status !== 0 && status < 500) return false;
  retry = setTimeout(start, RETRY_MS);
  return true;
}

export function bindLoginForm(onIn) {
  // one login at a time: a second Enter while the password is checked
  // (about a tenth of a second) would be refused 429 by the server
  let pending = false;
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    if (pending) return;
    pending = true;
    $('login-error').textContent = '';
    let r;
    try {
      r = await fetch('/api/login', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: $('login-user').value, password: $('login-pass').value }),
      });
    } catch {
      pending = false;
      $('login-error').textContent = t('login_offline');
      return;
    }
    if (r.status === 200) { pending = false; $('login-pass').value = ''; onIn(); return; }
    const why = await loginError(r);
    pending = false;
    $('login-error').textContent = why;
  });
  bindSso();
}
