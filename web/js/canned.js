// The canned-response picker: typing "/" at the start of the composer opens
// a list of the administrator's canned responses, filtered by what follows
// the "/"; Up/Down move, Enter or a click inserts the text in the desk's
// language, Escape closes. The list is fetched when the picker opens.
import { $, el } from './util.js';
import { t, currentLang } from './i18n.js';
import { S } from './state.js';

let items = [];
let shown = [];
let active = 0;
let fetching = null;

function textOf(c) {
  return (currentLang() === 'en' ? c.text_en || c.text_sv : c.text_sv || c.text_en) || '';
}

function render() {
  const box = $('canned');
  const q = $('composer-text').value.slice(1).toLowerCase();
  shown = items.filter((c) => !q || c.title.toLowerCase().includes(q) || textOf(c).toLowerCase().includes(q));
  active = Math.min(active, Math.max(0, shown.length - 1));
  box.hidden = false;
  $('canned-list').replaceChildren(...(shown.length ? shown.map((c, i) => el('li', {
    id: `canned-${c.id}`, role: 'option', class: i === active ? 'active' : '',
    'aria-selected': String(i === active), dataset: { i: String(i) },
  }, el('strong', { text: c.title }), el('span', { text: textOf(c) })))
    : [el('li', { class: 'empty', text: t('canned_none') })]));
  $('composer-text').setAttribute('aria-activedescendant', shown[active] ? `canned-${shown[active].id}` : '');
}

export function cannedOpen() {
  return !$('canned').hidden;
}

export function closeCanned() {
  $('canned').hidden = true;
  $('composer-text').removeAttribute('aria-activedescendant');
}

async function load() {
  if (!fetching) {
    fetching = S.conn.cmd('canned').then((r) => { if (r.ok) items = r.canned; fetching = null; });
  }
  await fetching;
}

// Called on every composer input.
export async function cannedInput() {
  const v = $('composer-text').value;
  if (!v.startsWith('/') || v.includes('\n')) { closeCanned(); return; }
  if ($('canned').hidden) { active = 0; await load(); }
  if ($('composer-text').value.startsWith('/')) render();
}

function insert(c) {
  const ta = $('composer-text');
  ta.value = textOf(c).slice(0, 1000);
  closeCanned();
  ta.dispatchEvent(new Event('input'));
  ta.focus();
}

// Keys while the picker is open; returns true when it used the key.
export function cannedKey(e) {
  if (!cannedOpen()) {
    // the list is still on its way: Enter must not send "/..." meanwhile
    if (e.key === 'Enter' && fetching && $('composer-text').value.startsWith('/')) {
      e.preventDefault();
      return true;
    }
    return false;
  }
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    active = (active + (e.key === 'ArrowDown' ? 1 : -1) + shown.length) % Math.max(1, shown.length);
    render();
  } else if (e.key === 'Enter' || e.key === 'Tab') {
    if (!shown[active]) return false;
    insert(shown[active]);
  } else if (e.key === 'Escape') {
    closeCanned();
  } else {
    return false;
  }
  e.preventDefault();
  return true;
}

$('canned-list').addEventListener('mousedown', (e) => {
  const li = e.target.closest('li[data-i]');
  if (li) { e.preventDefault(); insert(shown[Number(li.dataset.i)]); }
});
