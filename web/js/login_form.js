// The login form of the admin and supervisor pages (#login-form with
// #login-user, #login-pass and #login-error): posts /api/login and calls
// 'onIn' when the server lets the user in; errors show under the form.
// The single sign-on button (#sso-btn) shows when the site has it (sso.js).
import { t } from '/js/i18n.js';
import { $ } from '/js/util.js';
import { bindSso } from '/js/sso.js';

export function bindLoginForm(onIn) {
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('login-error').textContent = '';
    let r;
    try {
      r = await fetch('/api/login', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: $('login-user').value, password: $('login-pass').value }),
      });
    } catch (err) {
      $('login-error').textContent = t('login_error', { msg: String(err.message || err) });
      return;
    }
    if (r.status === 200) { $('login-pass').value = ''; onIn(); return; }
    $('login-error').textContent = r.status === 401 ? t('login_failed')
      : r.status === 403 ? t('password_login_off') : t('login_error', { msg: r.status });
  });
  bindSso();
}
