// One way for the admin page's tabs (admin.js, security.js, hooks.js,
// privacy.js) to call /api/admin/...: the status and the JSON body (or {}
// when there is none), status 0 when the server does not answer; and the
// API's error in the page's language with what to do. The server's English
// "message" is never shown: a refused field says its problem's code
// (docs/api.md, "Field problems": e_CODE here), other errors their code
// (err_CODE), and a code this page does not know reads as a general text
// that names it.
import { t } from '/js/i18n.js';

export async function call(method, path, body, raw = false) {
  try {
    const r = await fetch(`/api/admin/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
    });
    let j = {};
    try { j = await r.json(); } catch { /* empty */ }
    return { status: r.status, body: j };
  } catch {
    return { status: 0, body: {} };
  }
}

const known = (k) => t(k) !== k;

// Problems whose words depend on the field: another entry point's number,
// a queue named as its own fallback.
const SPECIAL = { 'number:in_use': 'e_in_use_number', 'fallback:invalid': 'e_fallback_self' };

// The text of refused answer 'r' ({status, body}).
export function errText(r) {
  const b = r.body || {};
  if (r.status === 0) return t('err_network');
  const leaf = String(b.field || '').replace(/^.*\]\./, '');
  const keys = [SPECIAL[`${leaf}:${b.code}`], b.code && `e_${b.code}`, b.code && `err_${b.code}`,
    r.status === 401 ? 'err_not_logged_in' : null, b.error && `err_${b.error}`];
  const k = keys.find((x) => x && known(x));
  return k ? t(k, { min: b.min, max: b.max }) : t('err_unknown', { code: b.error || r.status });
}

// A field's name as the page shows it: its label ("hours.week.mon[0]":
// Opening hours, Mon), or, in an imported file, the section and the item
// ("agents[2].capacity": Agents, item 3 in the file – Capacity); a key the
// page does not know as it is.
export function fieldName(path) {
  const m = /^(\w+)\[(\d+)\](?:\.(.+))?$/.exec(path);
  if (m && known(`tab_${m[1]}`)) {
    const item = t('import_item', { section: t(`tab_${m[1]}`), n: Number(m[2]) + 1 });
    return m[3] ? `${item} – ${fieldName(m[3])}` : item;
  }
  const day = /^hours\.week\.(\w+)/.exec(path);
  if (day && known(`day_${day[1]}`)) return `${t('f_week')}, ${t(`day_${day[1]}`)}`;
  const base = path.replace(/^hours\./, '').replace(/[.[].*$/, '');
  if (known(`f_${base}`)) return t(`f_${base}`);
  if (known(`tab_${base}`)) return t(`tab_${base}`);
  return path;
}

// errText with the field's name before it when the problem has a field.
export function errWithField(r) {
  const f = r.body && r.body.field;
  return f ? `${fieldName(f)}: ${errText(r)}` : errText(r);
}

// A tab's status and error lines (#X-error, #X-status, #list-ok) go
// through say, so a change of language words them anew (admin.js: resay).
export { say, resay } from '/js/util.js';
