// The administrator's webhooks tab (/admin/#webhooks; docs/integration.md):
// subscribe an address to event kinds, masked or not; the signing secret
// is shown once, in a read-only field. The list shows how each delivers:
// events delivered, failed attempts, the last answer and how far behind it
// is.
import { t, currentLang } from '/js/i18n.js';
import { $, el, keyboardScroll } from '/js/util.js';
import { call, errText, say } from './call.js';

let kinds = [];

const when = (ms) => new Date(ms).toLocaleString(currentLang() === 'en' ? 'en-GB' : 'sv-SE');
const kindText = (k) => t(`whk_${k.replace('.', '_')}`);

// The checkboxes once; their labels again on every load (the language
// may have changed), what is ticked kept.
function renderKinds() {
  const box = $('wh-kinds');
  if (!box.children.length) {
    box.append(el('label', { class: 'switch' },
      el('input', { type: 'checkbox', id: 'wh-all', onchange: (ev) => {
        for (const c of box.querySelectorAll('input[data-kind]')) c.checked = ev.target.checked;
      } }),
      el('span', { 'data-kind-label': '*' })));
    for (const k of kinds) {
      box.append(el('label', { class: 'switch' },
        el('input', { type: 'checkbox', 'data-kind': k }),
        el('span', { 'data-kind-label': k })));
    }
  }
  for (const sp of box.querySelectorAll('span[data-kind-label]')) {
    const k = sp.dataset.kindLabel;
    sp.textContent = k === '*' ? t('wh_all') : kindText(k);
  }
}

function lastText(w) {
  if (w.last_at === null) return t('wh_none_yet');
  const what = w.last_status ? `HTTP ${w.last_status}` : t('wh_no_answer');
  return `${what} · ${when(w.last_at)}`;
}

// A failed last attempt: what it means and what to do, in the page's
// language, by the answer's status; the receiver's own words (its raw
// text, any language) follow as secondary text, never in their place.
function whyKey(status) {
  if (!status) return 'wh_why_no_answer';
  if (status === 401 || status === 403) return 'wh_why_auth';
  if (status === 404 || status === 410) return 'wh_why_not_found';
  return status >= 400 && status < 500 ? 'wh_why_refused' : 'wh_why_failed';
}

function lastCell(w) {
  const td = el('td', {}, lastText(w));
  if (w.last_error !== null && w.last_at !== null) {
    td.append(el('br'), el('span', { class: 'wh-why', text: t(whyKey(w.last_status), { status: w.last_status }) }),
      el('br'), el('span', { class: 'sub', text: `${t('wh_detail')}: ${w.last_error}` }));
  }
  return td;
}

async function load() {
  const r = await call('GET', 'webhooks');
  const body = $('wh-body');
  body.replaceChildren();
  if (r.status !== 200) {
    say('wh-error', () => errText(r));
    return;
  }
  kinds = r.body.kinds;
  renderKinds();
  for (const w of r.body.webhooks) {
    body.append(el('tr', {},
      el('td', {}, el('strong', { text: w.name }), el('br'), el('span', { class: 'sub', text: `${w.url} · ${t(w.masked ? 'wh_masked_yes' : 'wh_masked_no')}` })),
      el('td', { text: w.events.length === kinds.length ? t('wh_all') : w.events.map(kindText).join(', ') }),
      el('td', { text: String(w.delivered) }),
      el('td', { text: String(w.failures) }),
      lastCell(w),
      el('td', { text: String(w.behind) }),
      el('td', {}, el('button', { type: 'button', class: 'danger', text: t('wh_delete'), 'aria-label': t('wh_delete_named', { name: w.name }), onclick: () => remove(w) }))));
  }
  $('wh-empty').hidden = r.body.webhooks.length > 0;
  keyboardScroll();
}

async function remove(w) {
  const r = await call('DELETE', `webhooks/${w.id}`);
  say('wh-status', () => r.status === 200 ? t('wh_deleted', { name: w.name }) : '');
  say('wh-error', () => r.status === 200 ? '' : errText(r));
  await load();
  $('wh-name').focus();
}

async function create(ev) {
  ev.preventDefault();
  const events = [...$('wh-kinds').querySelectorAll('input[data-kind]')].filter((c) => c.checked).map((c) => c.dataset.kind);
  if (!events.length) {
    say('wh-error', () => t('wh_pick_one'));
    $('wh-kinds').querySelector('input').focus();
    return;
  }
  const body = { name: $('wh-name').value.trim(), url: $('wh-url').value.trim(), events, masked: $('wh-masked').checked };
  const r = await call('POST', 'webhooks', body);
  if (r.status !== 201) {
    say('wh-error', () => errText(r));
    $('wh-secret-box').hidden = true;
    return;
  }
  say('wh-error', () => '');
  $('wh-secret').value = r.body.secret;
  $('wh-secret-box').hidden = false;
  $('wh-name').value = '';
  $('wh-url').value = '';
  say('wh-status', () => t('wh_created', { name: r.body.name }));
  await load();
  $('wh-secret').focus();
  $('wh-secret').select();
}

export function showHooks() {
  say('wh-error', () => '');
  load();
}

$('wh-form').addEventListener('submit', create);
