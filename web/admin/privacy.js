// The administrator's privacy tab (/admin/#privacy; docs/privacy.md): the
// retention policy (the site's days, an entry point's own) with its last
// run and "run now"; the export of everything about one customer number
// (downloaded as JSON) and its erasure, confirmed in a second step.
import { t, currentLang } from '/js/i18n.js';
import { $, el, phoneNumber } from '/js/util.js';
import { call, errText, say } from './call.js';

let eps = [];

const when = (ms) => new Date(ms).toLocaleString(currentLang() === 'en' ? 'en-GB' : 'sv-SE');

function showLast(last) {
  $('ret-last').textContent = last
    ? t('ret_last', { when: when(last.finished_at), c: last.conversations, m: last.messages })
    : t('ret_never');
}

async function loadPolicy() {
  const r = await call('GET', 'retention');
  if (r.status !== 200) {
    say('ret-error', () => errText(r));
    return;
  }
  $('ret-days').value = String(r.body.days);
  $('ret-eps').replaceChildren(...eps.map((e) => el('label', { class: 'field' },
    el('span', { text: e.number }),
    el('input', { type: 'number', min: '0', max: '3650', inputmode: 'numeric', 'data-ep': String(e.id),
      value: r.body.entry_points[e.id] === undefined ? '' : String(r.body.entry_points[e.id]) }))));
  showLast(r.body.last_run);
  return r.body.last_run;
}

async function savePolicy(ev) {
  ev.preventDefault();
  const body = { days: Number($('ret-days').value || 0), entry_points: {} };
  for (const i of $('ret-eps').querySelectorAll('input[data-ep]'))
    if (i.value.trim() !== '') body.entry_points[i.dataset.ep] = Number(i.value);
  const r = await call('PUT', 'retention', body);
  say('ret-error', () => r.status === 200 ? '' : errText(r));
  say('ret-status', () => r.status === 200 ? t('ret_saved') : '');
  if (r.status === 200) loadPolicy();
}

async function runNow() {
  say('ret-error', () => '');
  const before = await loadPolicy();
  const r = await call('POST', 'retention/run');
  if (r.status !== 202) {
    say('ret-error', () => errText(r));
    return;
  }
  say('ret-status', () => t('ret_started'));
  for (let i = 0; i < 60; i++) { // the job works in batches: its result comes in a moment
    await new Promise((res) => setTimeout(res, 500));
    const g = await call('GET', 'retention');
    const last = g.body.last_run;
    if (last && (!before || last.started_at !== before.started_at)) { say('ret-status', () => ''); showLast(last); return; }
  }
}

function number() { return phoneNumber($('er-number').value); }

async function exportNumber(ev) {
  ev.preventDefault();
  $('er-confirm').hidden = true;
  const r = await call('GET', `customers/export?number=${encodeURIComponent(number())}`);
  if (r.status !== 200) {
    say('er-error', () => errText(r));
    say('er-status', () => '');
    return;
  }
  say('er-error', () => '');
  say('er-status', () => t('er_exported', { n: r.body.conversations.length }));
  const a = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(r.body, null, 2)], { type: 'application/json' })),
    download: `customer-${number().replace(/[^0-9A-Za-z]/g, '')}.json` });
  document.body.append(a);
  a.click();
  a.remove();
}

function askErase() {
  say('er-error', () => '');
  say('er-status', () => '');
  if (!number()) {
    say('er-error', () => t('err_bad_number'));
    $('er-number').focus();
    return;
  }
  $('er-confirm-text').textContent = t('er_confirm', { number: number() });
  $('er-confirm').hidden = false;
  $('er-confirm-no').focus();
}

async function erase() {
  $('er-confirm').hidden = true;
  const r = await call('POST', 'customers/erase', { number: number() });
  if (r.status !== 200) {
    say('er-error', () => errText(r));
    say('er-status', () => '');
  } else {
    say('er-error', () => '');
    say('er-status', () => t('er_erased', { c: r.body.conversations, m: r.body.messages }));
    $('er-number').value = '';
  }
  $('er-number').focus();
}

export function showPrivacy(list) {
  eps = list;
  say('ret-error', () => '');
  say('ret-status', () => '');
  loadPolicy();
}

$('ret-form').addEventListener('submit', savePolicy);
$('ret-run').addEventListener('click', runNow);
$('er-form').addEventListener('submit', exportNumber);
$('er-erase').addEventListener('click', askErase);
$('er-confirm-no').addEventListener('click', () => { $('er-confirm').hidden = true; $('er-erase').focus(); });
$('er-confirm-yes').addEventListener('click', erase);
