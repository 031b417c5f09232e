// One way for the admin page's tabs (security.js, hooks.js, privacy.js) to
// call /api/admin/...: the status and the JSON body (or {} when there is
// none), status 0 when the server does not answer; and the API's error in
// the page's language where the page knows its code, else its message.
import { t } from '/js/i18n.js';

export async function call(method, path, body) {
  try {
    const r = await fetch(`/api/admin/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let j = {};
    try { j = await r.json(); } catch { /* empty */ }
    return { status: r.status, body: j };
  } catch {
    return { status: 0, body: { message: t('network_error') } };
  }
}

export function errText(r) {
  const k = `err_${r.body.error}`;
  if (r.body.error && t(k) !== k) return t(k);
  return t('error', { msg: r.body.message || r.body.error || r.status });
}
