// Modal dialogs (<dialog>.showModal: focus is trapped and Escape closes):
// transfer, conference, wrap-up and new outbound message. Each has a
// search field focused on open and a radio list filtered by it.
import { $, el, dur, matches, focusable, say, phoneNumber } from './util.js';
import { t } from './i18n.js';
import { S, title } from './state.js';
import { wrapupText } from './render.js';

let hooks = { select: () => {}, error: () => {}, focusFallback: () => {} };
export function dialogHooks(h) { hooks = h; }

// err_CODE, or a general text naming a code the desktop does not know
// (never the server's English words)
function errText(r) {
  const k = `err_${r.error}`;
  const s = t(k);
  return s === k ? t('err_unknown', { code: r.error }) : s;
}

// Fills 'box' with radio options from 'items' ({id, name}) matching 'q'.
function pickList(box, name, items, q, emptyKey) {
  const checked = box.querySelector('input:checked')?.value;
  const shown = items.filter((x) => matches(x.name, q));
  const kids = shown.map((x) => el('label', { class: 'pick' },
    el('input', { type: 'radio', name, value: String(x.id), checked: String(x.id) === checked }),
    el('span', { text: x.name })));
  if (!shown.length) kids.push(el('p', { class: 'empty', text: t(emptyKey) }));
  box.replaceChildren(...kids);
  if (shown.length === 1) box.querySelector('input').checked = true;
}

function picked(box) {
  const v = box.querySelector('input:checked')?.value;
  return v ? Number(v) : 0;
}

// ArrowDown in a search field moves into the list; Enter picks.
function wireSearch(input, box, onEnter) {
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      const r = box.querySelector('input:checked') || box.querySelector('input');
      if (r) { r.focus(); r.checked = true; }
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const first = box.querySelector('input:checked') || box.querySelector('input');
      if (first) { first.checked = true; onEnter(); }
    }
  });
  box.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); onEnter(); }
  });
}

// Where focus goes back to when the dialog closes (Escape, Cancel, Later,
// or done): the control that opened it while it is still there, else the
// desk's fallback (the composer, the next task, the empty pane's text).
let returnTo = null;

export function open(dlg, focus) {
  const from = document.activeElement;
  if (!from?.closest?.('dialog')) returnTo = from;
  for (const d of document.querySelectorAll('dialog[open]')) if (d !== dlg) d.close();
  const err = dlg.querySelector('.error');
  if (err?.id) say(err.id, () => '');
  if (!dlg.open) dlg.showModal();
  focus.focus();
}

function restoreFocus() {
  if (document.querySelector('dialog[open]')) return;
  const a = document.activeElement;
  if (a && a !== document.body && focusable(a)) return; // something took it meanwhile
  if (focusable(returnTo)) returnTo.focus();
  else hooks.focusFallback();
}

for (const d of document.querySelectorAll('dialog')) {
  // after the desk has rendered what closing changed (one frame)
  d.addEventListener('close', () => requestAnimationFrame(() => setTimeout(restoreFocus, 0)));
}
for (const b of document.querySelectorAll('.dlg-cancel')) b.addEventListener('click', () => b.closest('dialog').close());

/* ---- transfer -------------------------------------------------------- */

const tr = { conv: 0, queues: [], agents: [], skills: [] };

function transferKind() { return document.querySelector('input[name="tkind"]:checked').value; }

function renderTransfer() {
  const kind = transferKind();
  pickList($('transfer-list'), 'ttarget', kind === 'queue' ? tr.queues : tr.agents, $('transfer-search').value,
    kind === 'queue' ? 'no_targets' : 'no_agents');
  // a transfer to a queue may require skills of whoever takes it next
  $('transfer-skills').hidden = kind !== 'queue' || tr.skills.length === 0;
}

/* One level picker per configured skill ('–': not required); keeps what
 * was picked while the dialog is open. */
function renderTransferSkills() {
  const keep = new Map(transferSkills().map((s) => [s.skill, s.level]));
  const rows = tr.skills.map((sk) => {
    const lab = document.createElement('label');
    lab.className = 'tskill';
    const name = document.createElement('span');
    name.textContent = sk.name;
    const sel = document.createElement('select');
    sel.dataset.skill = sk.id;
    for (const v of ['', '1', '2', '3', '4', '5']) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = v || '–';
      sel.append(o);
    }
    sel.value = String(keep.get(sk.id) || '');
    lab.append(name, sel);
    return lab;
  });
  $('transfer-skill-list').replaceChildren(...rows);
}

function transferSkills() {
  return [...document.querySelectorAll('#transfer-skill-list select')]
    .filter((s) => s.value)
    .map((s) => ({ skill: Number(s.dataset.skill), level: Number(s.value) }));
}

async function loadTargets() {
  const r = await S.conn.cmd('transfer_targets');
  if (!r.ok) return r;
  tr.queues = r.queues || [];
  tr.agents = r.agents || [];
  tr.skills = r.skills || [];
  for (const a of tr.agents) S.names.set(a.id, a.name);
  renderTransferSkills();
  return r;
}

export async function openTransfer(conv) {
  tr.conv = conv;
  $('transfer-search').value = '';
  $('transfer-list').replaceChildren();
  $('transfer-skill-list').replaceChildren();
  open($('dlg-transfer'), $('transfer-search'));
  const r = await loadTargets();
  if (!r.ok) say('transfer-error', () => errText(r));
  renderTransfer();
}

async function doTransfer() {
  const id = picked($('transfer-list'));
  if (!id) { say('transfer-error', () => t('pick_one')); return; }
  const kind = transferKind();
  const skills = kind === 'queue' ? transferSkills() : [];
  const r = await S.conn.cmd('transfer', { conv: tr.conv, [kind]: id, ...(skills.length ? { skills } : {}) });
  if (!r.ok) { say('transfer-error', () => errText(r)); return; }
  $('dlg-transfer').close();
  openWrapup(tr.conv);
}

for (const r of document.querySelectorAll('input[name="tkind"]')) r.addEventListener('change', renderTransfer);
$('transfer-search').addEventListener('input', renderTransfer);
$('transfer-refresh').addEventListener('click', async () => {
  const r = await loadTargets();
  say('transfer-error', () => r.ok ? '' : errText(r));
  renderTransfer();
});
$('transfer-ok').addEventListener('click', doTransfer);
wireSearch($('transfer-search'), $('transfer-list'), doTransfer);

/* ---- conference ------------------------------------------------------ */

const cf = { conv: 0 };

function renderConference() {
  pickList($('conference-list'), 'cagent', tr.agents, $('conference-search').value, 'no_agents');
}

export async function openConference(conv) {
  cf.conv = conv;
  $('conference-search').value = '';
  $('conference-list').replaceChildren();
  open($('dlg-conference'), $('conference-search'));
  const r = await loadTargets();
  if (!r.ok) say('conference-error', () => errText(r));
  renderConference();
}

async function doConference() {
  const id = picked($('conference-list'));
  if (!id) { say('conference-error', () => t('pick_one')); return; }
  const r = await S.conn.cmd('conference_invite', { conv: cf.conv, agent: id });
  if (!r.ok) { say('conference-error', () => errText(r)); return; }
  $('dlg-conference').close();
}

$('conference-search').addEventListener('input', renderConference);
$('conference-refresh').addEventListener('click', async () => {
  const r = await loadTargets();
  say('conference-error', () => r.ok ? '' : errText(r));
  renderConference();
});
$('conference-ok').addEventListener('click', doConference);
wireSearch($('conference-search'), $('conference-list'), doConference);

/* ---- wrap-up --------------------------------------------------------- */

const wu = { conv: 0 };

export function wrapupConv() { return $('dlg-wrapup').open ? wu.conv : 0; }

function renderWrapup() {
  pickList($('wrapup-list'), 'reason', S.wrapupReasons, $('wrapup-search').value, 'no_targets');
}

export function renderWrapupHead() {
  const c = S.convs.get(wu.conv);
  $('wrapup-for').textContent = c ? t('wrapup_for', { title: title(c) }) : '';
  $('wrapup-note').textContent = c && c.role === 'wrapup' && wrapupText(c) !== t('wrapup_due') ? wrapupText(c) : '';
  $('wrapup-note').hidden = !$('wrapup-note').textContent;
  const cd = $('wrapup-countdown');
  const dl = c && c.wrapup_deadline;
  cd.hidden = !dl;
  if (dl) {
    cd.dataset.until = String(dl);
    cd.dataset.fmt = 'auto_wrapup';
    cd.classList.add('timer');
    cd.textContent = ` ${t('auto_wrapup', { time: dur(dl - Date.now()) })}`;
  }
}

export function openWrapup(conv) {
  wu.conv = conv;
  $('wrapup-search').value = '';
  $('wrapup-list').replaceChildren();
  renderWrapupHead();
  open($('dlg-wrapup'), $('wrapup-search'));
  renderWrapup();
}

async function doWrapup() {
  const id = picked($('wrapup-list'));
  if (!id) { say('wrapup-error', () => t('pick_one')); return; }
  const r = await S.conn.cmd('wrapup', { conv: wu.conv, reason: id });
  if (!r.ok) { say('wrapup-error', () => errText(r)); return; }
  $('dlg-wrapup').close();
}

$('wrapup-search').addEventListener('input', renderWrapup);
$('wrapup-ok').addEventListener('click', doWrapup);
wireSearch($('wrapup-search'), $('wrapup-list'), doWrapup);

/* ---- outbound -------------------------------------------------------- */

export function openOutbound() {
  $('outbound-ep').replaceChildren(...S.eps.map((e) => el('option', { value: String(e.id), text: e.number })));
  $('outbound-number').value = '';
  open($('dlg-outbound'), $('outbound-number'));
}

async function doOutbound() {
  // the number as people write it ("070-123 45 67"): util.js's phoneNumber;
  // the server refuses what is then no number ('invalid')
  const number = phoneNumber($('outbound-number').value);
  const ep = Number($('outbound-ep').value);
  if (!number) { say('outbound-error', () => t('err_outbound_number')); return; }
  const r = await S.conn.cmd('outbound', { entry_point: ep, number });
  if (!r.ok) { say('outbound-error', () => r.error === 'invalid' ? t('err_outbound_number') : errText(r)); return; }
  $('dlg-outbound').close();
  // the conversation event arrives before the result, which names it
  if (S.convs.has(r.conv)) hooks.select(r.conv, true);
}

$('outbound-ok').addEventListener('click', doOutbound);
// what was wrong with the last try goes once the number is edited
$('outbound-number').addEventListener('input', () => { say('outbound-error', () => ''); });
$('outbound-number').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { e.preventDefault(); doOutbound(); }
});

// On server events only the wrap-up header can change (the lists change on
// search, refresh or language): the lists are not rebuilt, so keyboard focus
// inside them is kept.
export function refreshOpenDialogs(langChanged) {
  if (langChanged && $('dlg-transfer').open) renderTransfer();
  if (langChanged && $('dlg-conference').open) renderConference();
  if ($('dlg-wrapup').open) { renderWrapupHead(); if (langChanged) renderWrapup(); }
}

export { errText };
