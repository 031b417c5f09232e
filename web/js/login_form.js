// The login form of the admin and supervisor pages (#login-form with
// #login-user, #login-pass and #login-error): posts /api/login and calls
// 'onIn' when the server lets the user in; errors show under the form.
import { t } from '/js/i18n.js';
import { $ } from '/js/util.js';

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
    $('login-error').textContent = r.status === 401 ? t('login_failed') : t('login_error', { msg: r.status });
  });
}
