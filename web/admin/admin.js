// The administrator's page (/admin/): one tab per resource kind of
// /api/admin/KIND with a table and a create/edit form, delete with a
// confirmation, and a settings tab (masking, export/import, CSV report).
// The API is the validator: its errors name the field and the problem's
// code, and the page shows them, in its language, next to that field
// (call.js). No framework; strings from admin/i18n/*.json.
import { t, setLang, storedLang, onLang } from '/js/i18n.js';
import { bindLoginForm, startAgain } from '/js/login_form.js';
import { $, el, keyboardScroll, phoneNumber } from '/js/util.js';
import { showTokens, showAudit } from '/admin/security.js';
import { showHooks } from '/admin/hooks.js';
import { showPrivacy } from '/admin/privacy.js';
import { call, errText, errWithField, say, resay } from '/admin/call.js';

// tabs of their own (security.js, hooks.js, privacy.js): API tokens,
// webhooks, retention and erasure, the audit trail
const PANELS = new Set(['settings', 'tokens', 'webhooks', 'privacy', 'audit']);

// i18n.js loads i18n/<lang>.json relative to the page: keep the slash.
if (!location.pathname.endsWith('/')) location.replace(`${location.pathname}/${location.search}${location.hash}`);

const KINDS = ['agents', 'queues', 'teams', 'skills', 'entry_points', 'wrapup_reasons', 'idle_reasons', 'canned_responses'];
// kinds a server may lack (its tab shows only when the list answers)
const OPTIONAL = new Set(['canned_responses']);
// Fields of each kind's form: type text | textarea | int | teams | skills | queue | reason | password.
const SPEC = {
  agents: {
    cols: ['id', 'name', 'username', 'teams', 'skills', 'capacity', 'state'],
    fields: [
      { name: 'name', type: 'text' },
      { name: 'username', type: 'text', createOnly: true, auto: 'off' },
      { name: 'password', type: 'password' },
      { name: 'teams', type: 'teams' },
      { name: 'skills', type: 'skills' },
      { name: 'capacity', type: 'int', def: '3' },
    ],
  },
  queues: {
    cols: ['id', 'name', 'teams', 'skills', 'rona_timeout_s', 'auto_wrapup_s', 'default_reason', 'fallback', 'waiting'],
    fields: [
      { name: 'name', type: 'text' },
      { name: 'teams', type: 'teams' },
      { name: 'skills', type: 'skills', minimum: true },
      { name: 'widen_step_s', type: 'int', def: '0' },
      { name: 'rona_timeout_s', type: 'int', def: '30' },
      { name: 'auto_wrapup_s', type: 'int', def: '0' },
      { name: 'default_reason', type: 'reason' },
      { name: 'fallback', type: 'queue', none: true },
    ],
  },
  teams: { cols: ['id', 'name'], fields: [{ name: 'name', type: 'text' }] },
  skills: { cols: ['id', 'name'], fields: [{ name: 'name', type: 'text' }] },
  entry_points: {
    cols: ['id', 'number', 'queue', 'hours', 'max_wait_s', 'survey'],
    // the flow (docs/configuration.md): 'hours' fields are sent nested
    fields: [
      // written as people do ("+46 70 123 45 67"): sent as +46701234567
      { name: 'number', type: 'text', auto: 'off', phone: true },
      { name: 'queue', type: 'queue' },
      { name: 'skills', type: 'skills', minimum: true },
      { name: 'skill_words', type: 'words' },
      { name: 'welcome_reply', type: 'textarea', optional: true },
      { name: 'time_zone', type: 'text', auto: 'off', hours: true },
      { name: 'week', type: 'week', hours: true },
      { name: 'holidays', type: 'text', auto: 'off', hours: true },
      { name: 'closed_reply', type: 'textarea', optional: true, hours: true },
      { name: 'closed_action', type: 'choice', choices: ['queue', 'close'], hours: true },
      { name: 'max_wait_s', type: 'int', def: '' },
      { name: 'overflow_queue', type: 'queue', none: true },
      { name: 'overflow_reply', type: 'textarea', optional: true },
      { name: 'survey', type: 'survey' },
    ],
  },
  wrapup_reasons: { cols: ['id', 'name'], fields: [{ name: 'name', type: 'text' }] },
  idle_reasons: { cols: ['id', 'name'], fields: [{ name: 'name', type: 'text' }] },
  canned_responses: {
    cols: ['id', 'title', 'text_sv', 'text_en'],
    fields: [{ name: 'title', type: 'text' }, { name: 'text_sv', type: 'textarea' }, { name: 'text_en', type: 'textarea' }],
  },
};
const NUMERIC = new Set(['id', 'capacity', 'rona_timeout_s', 'auto_wrapup_s', 'widen_step_s', 'waiting', 'max_wait_s']);
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const S = { kind: 'agents', data: {}, editing: null };

async function api(method, path, body, raw = false) {
  const r = await call(method, path, body, raw);
  if (r.status === 401) showLogin();
  return r;
}

function nameOf(kind, id) {
  const x = (S.data[kind] || []).find((e) => e.id === id);
  return x ? x.name ?? x.number : id ? `#${id}` : '';
}
const label = (kind, x) => (kind === 'entry_points' ? x.number : kind === 'canned_responses' ? x.title : x.name);

async function loadAll() {
  const res = await Promise.all(KINDS.map((k) => api('GET', k)));
  res.forEach((r, i) => {
    const k = KINDS[i];
    if (r.status === 200) S.data[k] = r.body[k] || [];
    if (OPTIONAL.has(k)) document.querySelector(`.tab[data-kind="${k}"]`).hidden = r.status !== 200;
  });
}

/* ---- tabs ---------------------------------------------------------------- */

function selectTab(kind) {
  if (!PANELS.has(kind) && (!SPEC[kind] || !S.data[kind])) kind = 'agents';
  S.kind = kind;
  // tabs: aria-controls, one Tab stop (the selected tab), arrows move
  for (const b of document.querySelectorAll('.tab')) {
    const on = b.dataset.kind === kind;
    b.setAttribute('aria-selected', String(on));
    b.setAttribute('aria-controls', PANELS.has(b.dataset.kind) ? b.dataset.kind : 'resource');
    b.tabIndex = on ? 0 : -1;
    b.id = `tab-${b.dataset.kind}`;
    if (on) $(PANELS.has(kind) ? kind : 'resource').setAttribute('aria-labelledby', b.id);
  }
  $('resource').hidden = PANELS.has(kind);
  for (const p of PANELS) $(p).hidden = kind !== p;
  if (location.hash !== `#${kind}`) history.replaceState(null, '', `#${kind}`);
  $('list-error').hidden = true;
  say('list-ok', () => '');
  if (kind === 'settings') { loadSettings(); return; }
  if (kind === 'tokens') { showTokens(S.data.agents || []); return; }
  if (kind === 'audit') { showAudit(); return; }
  if (kind === 'webhooks') { showHooks(); return; }
  if (kind === 'privacy') { showPrivacy(S.data.entry_points || []); return; }
  renderList();
  openForm(null);
}

/* ---- list ---------------------------------------------------------------- */

function cell(kind, col, x) {
  const v = x[col];
  switch (col) {
    case 'teams': return (v || []).map((id) => nameOf('teams', id)).join(', ');
    case 'skills': return (v || []).map((k) => `${nameOf('skills', k.skill)} ${k.level}`).join(', ');
    case 'queue': case 'fallback': return v ? nameOf('queues', v) : '';
    case 'default_reason': return v ? nameOf('wrapup_reasons', v) : '';
    case 'state': return v ? t(`state_${v}`) : '';
    case 'text_sv': case 'text_en': return v && v.length > 60 ? `${v.slice(0, 60)}…` : v || '';
    case 'hours': return v ? v.time_zone : t('always_open');
    case 'max_wait_s': return v ? `${v} s → ${x.overflow_queue ? nameOf('queues', x.overflow_queue) : t('reply_only')}` : '';
    case 'survey': return v ? `${t(`survey_lang_${v.language || 'own'}`)}, ${v.window_s} s` : t('survey_off');
    default: return v == null ? '' : String(v);
  }
}

// a short column heading where the form's label is long
function head(c) {
  const h = t(`h_${c}`);
  return h === `h_${c}` ? t(`f_${c}`) : h;
}

function renderList() {
  const kind = S.kind;
  const spec = SPEC[kind];
  $('list-title').textContent = t(`tab_${kind}`);
  $('list-head').replaceChildren(...spec.cols.map((c) => el('th', { scope: 'col', class: NUMERIC.has(c) ? 'num' : null, text: head(c) })),
    el('th', { class: 'actions' }, el('span', { class: 'visually-hidden', text: t('edit') })));
  const rows = (S.data[kind] || []).map((x) => el('tr', { dataset: { id: String(x.id) }, class: S.editing === x.id ? 'selected' : null },
    ...spec.cols.map((c) => el('td', { class: `c-${c}${NUMERIC.has(c) ? ' num' : ''}`, text: cell(kind, c, x) })),
    el('td', { class: 'actions' },
      el('button', { type: 'button', class: 'edit', text: t('edit'), 'aria-label': `${t('edit')} ${label(kind, x)}`, onclick: () => openForm(x) }),
      el('button', { type: 'button', class: 'delete danger', text: t('delete'), 'aria-label': `${t('delete')} ${label(kind, x)}`, onclick: () => confirmDelete(x) }))));
  $('list-body').replaceChildren(...rows);
  $('list-empty').hidden = rows.length > 0;
  keyboardScroll();
}

/* ---- form ---------------------------------------------------------------- */

function field(f, x) {
  const id = `f-${f.name}`;
  const err = el('p', { class: 'field-error', id: `err-${f.name}`, 'aria-live': 'polite' });
  const head = el('span', { id: `lbl-${f.name}`, text: t(`f_${f.name}`) });
  const cur = x ? (f.hours ? flowValue(f.name, x.hours) : x[f.name]) : undefined;
  let input;
  switch (f.type) {
    case 'week': {
      const box = el('div', { class: 'week', id, role: 'group', 'aria-labelledby': `lbl-${f.name}`, 'aria-describedby': `err-${f.name} hint-${f.name}` },
        ...DAYS.map((d) => el('label', { class: 'day' }, el('span', { text: t(`day_${d}`) }),
          el('input', { id: `f-week-${d}`, type: 'text', autocomplete: 'off', placeholder: '08:00-17:00', value: ((cur || {})[d] || []).join(', ') }))));
      return el('div', { class: 'field field-wide', dataset: { field: f.name } }, head, box,
        el('span', { class: 'hint', id: `hint-${f.name}`, text: t('f_week_hint') }), err);
    }
    case 'choice':
      input = el('select', { id, name: f.name, 'aria-describedby': `err-${f.name}` },
        ...f.choices.map((c) => el('option', { value: c, text: t(`${f.name}_${c}`), selected: cur === c })));
      break;
    case 'teams': {
      const teams = S.data.teams || [];
      const box = el('div', { class: 'checks', id, role: 'group', 'aria-labelledby': `lbl-${f.name}`, 'aria-describedby': `err-${f.name}` },
        ...teams.map((tm) => el('label', {}, el('input', { type: 'checkbox', name: 'teams', value: String(tm.id), checked: !!(cur || []).includes(tm.id) }), ` ${tm.name}`)));
      if (!teams.length) box.append(el('p', { class: 'empty', text: t('no_teams') }));
      return el('div', { class: 'field', dataset: { field: f.name } }, head, box, err);
    }
    case 'skills': {
      // one level per configured skill: none, or 1-5 (a proficiency, or a
      // queue's or entry point's minimum)
      const skills = S.data.skills || [];
      const level = (id) => ((cur || []).find((k) => k.skill === id) || {}).level || 0;
      const box = el('div', { class: 'checks skills', id, role: 'group', 'aria-labelledby': `lbl-${f.name}`, 'aria-describedby': `err-${f.name} hint-${f.name}` },
        ...skills.map((k) => el('label', {}, el('span', { text: k.name }), ' ',
          el('select', { name: 'skill', dataset: { skill: String(k.id) } },
            ...[0, 1, 2, 3, 4, 5].map((n) => el('option', { value: String(n), text: n ? String(n) : t('level_none'), selected: level(k.id) === n }))))));
      if (!skills.length) box.append(el('p', { class: 'empty', text: t('no_skills') }));
      return el('div', { class: 'field field-wide', dataset: { field: f.name } }, head, box,
        el('span', { class: 'hint', id: `hint-${f.name}`, text: t(f.minimum ? 'f_skills_min_hint' : 'f_skills_hint') }), err);
    }
    case 'words': return wordsField(f, cur);
    case 'survey': return surveyField(f, cur);
    case 'queue': case 'reason': {
      const list = f.type === 'queue' ? (S.data.queues || []).filter((q) => !x || S.kind !== 'queues' || q.id !== x.id) : S.data.wrapup_reasons || [];
      input = el('select', { id, name: f.name, 'aria-describedby': `err-${f.name}` },
        (f.none || f.type === 'reason') ? el('option', { value: '0', text: t('none') }) : null,
        ...list.map((o) => el('option', { value: String(o.id), text: o.name, selected: cur === o.id })));
      break;
    }
    case 'textarea':
      input = el('textarea', { id, name: f.name, rows: 3, maxlength: 1000, 'aria-describedby': `err-${f.name}` });
      input.value = cur != null ? String(cur) : '';
      break;
    case 'password':
      input = el('input', { id, name: f.name, type: 'password', autocomplete: 'new-password', 'aria-describedby': `err-${f.name} hint-${f.name}` });
      break;
    default:
      input = el('input', {
        id, name: f.name, type: f.phone ? 'tel' : 'text', autocomplete: f.auto || null, inputmode: f.type === 'int' ? 'numeric' : null,
        'aria-describedby': `err-${f.name}`, value: cur != null ? String(cur) : (!x && f.def) || '',
        disabled: !!(x && f.createOnly),
      });
  }
  return el('label', { class: 'field', dataset: { field: f.name } }, head, input,
    f.type === 'password' && x ? el('span', { class: 'hint', id: `hint-${f.name}`, text: t('f_password_hint') }) : null, err);
}

// An entry point's skill words: rows of word, skill and level; a row with
// an empty word is left out when saving.
function wordRow(w) {
  const skills = S.data.skills || [];
  const n = document.querySelectorAll('#f-skill_words .word-row').length + 1;
  const row = el('div', { class: 'word-row', role: 'group', 'aria-label': t('word_row', { n }) },
    el('label', {}, el('span', { text: t('word') }), el('input', { type: 'text', name: 'word', autocomplete: 'off', value: w ? w.word : '' })),
    el('label', {}, el('span', { text: t('word_skill') }),
      el('select', { name: 'word_skill' }, ...skills.map((k) => el('option', { value: String(k.id), text: k.name, selected: !!w && w.skill === k.id })))),
    el('label', {}, el('span', { text: t('word_level') }),
      el('select', { name: 'word_level' }, ...[1, 2, 3, 4, 5].map((n2) => el('option', { value: String(n2), text: String(n2), selected: (w ? w.level : 1) === n2 })))));
  row.append(el('button', { type: 'button', class: 'word-remove', text: t('remove'), 'aria-label': `${t('remove')} ${t('word_row', { n })}`, onclick: () => row.remove() }));
  return row;
}

function wordsField(f, cur) {
  const rows = el('div', { class: 'word-rows' }, ...(cur || []).map(wordRow));
  const box = el('div', { class: 'words', id: `f-${f.name}`, role: 'group', 'aria-labelledby': `lbl-${f.name}`, 'aria-describedby': `err-${f.name} hint-${f.name}` }, rows,
    (S.data.skills || []).length
      ? el('button', { type: 'button', id: 'word-add', text: t('word_add'), onclick: () => { rows.append(wordRow(null)); rows.lastChild.querySelector('input').focus(); } })
      : el('p', { class: 'empty', text: t('no_skills') }));
  // rows are numbered when built: renumber the labels of those after a removed one
  return el('div', { class: 'field field-wide', dataset: { field: f.name } }, el('span', { id: `lbl-${f.name}`, text: t(`f_${f.name}`) }), box,
    el('span', { class: 'hint', id: `hint-${f.name}`, text: t('f_skill_words_hint') }),
    el('p', { class: 'field-error', id: `err-${f.name}`, 'aria-live': 'polite' }));
}

// The customer-satisfaction survey: on or off, the Swedish or English
// template or a text of one's own, and the answer window.
function surveyField(f, cur) {
  const lang = cur ? cur.language || 'own' : 'sv';
  const on = el('input', { type: 'checkbox', id: 'f-survey-on', checked: !!cur });
  const choice = el('select', { id: 'f-survey-language', 'aria-describedby': 'err-survey' },
    ...['sv', 'en', 'own'].map((l) => el('option', { value: l, text: t(`survey_lang_${l}`), selected: lang === l })));
  const text = el('textarea', { id: 'f-survey-text', rows: 3, maxlength: 1000, 'aria-describedby': 'hint-survey-text err-survey' });
  text.value = cur && lang === 'own' ? cur.text : '';
  const win = el('input', { id: 'f-survey-window_s', type: 'text', inputmode: 'numeric', autocomplete: 'off', value: String(cur ? cur.window_s : 3600), 'aria-describedby': 'err-survey' });
  const template = el('p', { class: 'survey-template', id: 'f-survey-template' });
  const sync = () => {
    const l = choice.value;
    for (const e of [choice, text, win]) e.disabled = !on.checked;
    text.closest('label').hidden = l !== 'own';
    // the template's wording as the customer will get it (the server keeps it)
    template.hidden = l === 'own';
    template.textContent = l === 'own' ? '' : cur && cur.language === l ? `”${cur.text}”` : t(`survey_template_${l}`);
  };
  on.addEventListener('change', sync);
  choice.addEventListener('change', sync);
  const box = el('fieldset', { class: 'survey', id: 'f-survey', 'aria-describedby': 'err-survey' },
    el('legend', { id: 'lbl-survey', text: t('f_survey') }),
    el('label', { class: 'inline' }, on, ` ${t('survey_on')}`),
    el('label', { class: 'field' }, el('span', { text: t('survey_language') }), choice),
    template,
    el('label', { class: 'field' }, el('span', { text: t('survey_text') }), text,
      el('span', { class: 'hint', id: 'hint-survey-text', text: t('survey_text_hint') })),
    el('label', { class: 'field' }, el('span', { text: t('survey_window_s') }), win));
  sync();
  return el('div', { class: 'field field-wide', dataset: { field: f.name } }, box,
    el('p', { class: 'field-error', id: `err-${f.name}`, 'aria-live': 'polite' }));
}

// The form's value of a field kept under an entry point's "hours".
function flowValue(name, hours) {
  if (!hours) return undefined;
  if (name === 'holidays') return (hours.holidays || []).join(', ');
  return hours[name];
}

function nextId(kind) {
  return (S.data[kind] || []).reduce((m, x) => Math.max(m, x.id), 0) + 1;
}

function openForm(x) {
  const kind = S.kind;
  S.editing = x ? x.id : null;
  $('form-title').textContent = x ? t('edit_title', { name: label(kind, x) }) : t(`new_title_${kind}`);
  const idField = el('label', { class: 'field', dataset: { field: 'id' } }, el('span', { text: t('f_id') }),
    el('input', { id: 'f-id', name: 'id', type: 'text', inputmode: 'numeric', value: String(x ? x.id : nextId(kind)), disabled: !!x, 'aria-describedby': 'err-id' }),
    el('p', { class: 'field-error', id: 'err-id', 'aria-live': 'polite' }));
  $('form-fields').replaceChildren(el('div', { class: 'fields' }, idField, ...SPEC[kind].fields.map((f) => field(f, x))));
  say('form-error', () => '');
  for (const tr of $('list-body').children) tr.classList.toggle('selected', tr.dataset.id === String(S.editing));
}

function clearErrors() {
  say('form-error', () => '');
  for (const e of document.querySelectorAll('#form-fields .field-error')) e.textContent = '';
  for (const f of document.querySelectorAll('#form-fields .field.invalid')) f.classList.remove('invalid');
}

// A refused save: the problem next to its field (the API's "field":
// "hours.week.mon[0]" is the week field, "skills[1].level" the skills,
// "overflow_queue" its own), else above the buttons with the field's name.
function showApiError(r) {
  const path = String(r.body.field || '');
  const names = path ? [path, path.replace(/^hours\./, '').replace(/[.[].*$/, '')] : [];
  const f = names.find((n) => document.querySelector(`#form-fields .field[data-field="${n}"]`));
  if (f) {
    // a part of a group named before the problem: the day, the survey's window
    const part = /^hours\.week\.(\w+)/.exec(path) ? `day_${path.split('.')[2].replace(/\[.*$/, '')}`
      : /^survey\.\w+$/.test(path) ? `survey_${path.slice(7)}` : null;
    const box = document.querySelector(`#form-fields .field[data-field="${f}"]`);
    box.classList.add('invalid');
    $(`err-${f}`).textContent = part && t(part) !== part ? `${t(part)}: ${errText(r)}` : errText(r);
    const box2 = $(`f-${f}`);
    // a group (skills, words, survey): its first field that can take input
    const input = box2 && !box2.matches('input, select, textarea') ? box2.querySelector('input:not([disabled]), select:not([disabled]), textarea:not([disabled])') : box2;
    if (input && input.focus) input.focus();
    say('form-error', () => t('fix_fields'));
    return;
  }
  say('form-error', () => errWithField(r));
}

function intValue(v) {
  const s = v.trim();
  return /^\d+$/.test(s) ? Number(s) : s; // not a number: let the API say so
}

function formBody(kind) {
  const body = {};
  const hours = {};
  for (const f of SPEC[kind].fields) {
    if (f.createOnly && S.editing != null) continue;
    const input = $(`f-${f.name}`);
    if (f.hours) { // gathered below, sent only with a time zone
      if (f.type === 'week') {
        hours.week = {};
        for (const d of DAYS) {
          const v = $(`f-week-${d}`).value.trim();
          if (v) hours.week[d] = v.split(/\s*,\s*/);
        }
      } else if (f.name === 'holidays') {
        const v = input.value.trim();
        if (v) hours.holidays = v.split(/[\s,]+/);
      } else if (input.value.trim() !== '') {
        hours[f.name] = input.value;
      }
      continue;
    }
    switch (f.type) {
      case 'teams':
        body.teams = [...input.querySelectorAll('input:checked')].map((c) => Number(c.value));
        break;
      case 'words':
        body.skill_words = [...input.querySelectorAll('.word-row')]
          .filter((r) => r.querySelector('[name="word"]').value.trim() !== '')
          .map((r) => ({ word: r.querySelector('[name="word"]').value.trim(), skill: Number(r.querySelector('[name="word_skill"]').value),
            level: Number(r.querySelector('[name="word_level"]').value) }));
        break;
      case 'survey': {
        if (!$('f-survey-on').checked) break;
        const l = $('f-survey-language').value;
        body.survey = { window_s: intValue($('f-survey-window_s').value) };
        if (l === 'own') body.survey.text = $('f-survey-text').value;
        else body.survey.language = l;
        break;
      }
      case 'skills':
        body.skills = [...input.querySelectorAll('select')].filter((s) => s.value !== '0')
          .map((s) => ({ skill: Number(s.dataset.skill), level: Number(s.value) }));
        break;
      case 'queue': case 'reason':
        if (input.value) body[f.name] = Number(input.value);
        break;
      case 'int':
        if (input.value.trim() !== '') body[f.name] = intValue(input.value);
        break;
      case 'password':
        if (input.value) body.password = input.value;
        break;
      case 'textarea': // empty: left out, so the API names the missing field
        if (input.value.trim() !== '') body[f.name] = input.value;
        break;
      default: // empty: left out, so the API says the field is required
        if (input.value !== '') body[f.name] = f.phone ? phoneNumber(input.value) : input.value;
    }
  }
  if (hours.time_zone) body.hours = hours;
  else if (hours.closed_reply || hours.holidays || Object.keys(hours.week || {}).length) body.hours = hours; // the API says what is missing
  // what the form does not edit is kept: an entry point's gateway
  const old = (S.data[kind] || []).find((x) => x.id === S.editing);
  if (kind === 'entry_points' && old && old.gateway) body.gateway = old.gateway;
  if (kind === 'entry_points' && !body.max_wait_s) { delete body.max_wait_s; if (body.overflow_queue === 0) delete body.overflow_queue; }
  return body;
}

async function save(e) {
  e.preventDefault();
  const kind = S.kind;
  clearErrors();
  say('list-ok', () => '');
  $('list-error').hidden = true;
  const idText = S.editing != null ? String(S.editing) : $('f-id').value.trim();
  if (!/^[1-9]\d*$/.test(idText)) {
    $('err-id').textContent = t('e_id');
    $('f-id').closest('.field').classList.add('invalid');
    return;
  }
  $('form-save').disabled = true;
  const r = await api('PUT', `${kind}/${idText}`, formBody(kind));
  $('form-save').disabled = false;
  if (r.status !== 200) { showApiError(r); return; }
  await loadAll();
  renderList();
  say('list-ok', () => t('saved', { name: label(kind, r.body) }));
  openForm(null);
}

/* ---- delete -------------------------------------------------------------- */

let pendingDelete = null;

function confirmDelete(x) {
  pendingDelete = { kind: S.kind, x };
  $('confirm-text').textContent = t('confirm_text', { what: t(`what_${S.kind}`), name: label(S.kind, x) });
  const note = { agents: 'confirm_agent', entry_points: 'confirm_entry_point', queues: 'confirm_queue', skills: 'confirm_skill' }[S.kind];
  $('confirm-note').textContent = note ? t(note) : '';
  $('dlg-confirm').showModal();
  $('confirm-cancel').focus();
}

async function doDelete() {
  const p = pendingDelete;
  pendingDelete = null;
  $('dlg-confirm').close();
  if (!p) return;
  $('list-error').hidden = true;
  say('list-ok', () => '');
  const r = await api('DELETE', `${p.kind}/${p.x.id}`);
  if (r.status !== 200) {
    say('list-error', () => r.body.error === 'in_use'
      ? t('err_in_use', { name: label(p.kind, p.x) })
      : errText(r));
    $('list-error').hidden = false;
    return;
  }
  await loadAll();
  if (S.kind === p.kind) {
    renderList();
    if (S.editing === p.x.id) openForm(null);
  }
  say('list-ok', () => t('deleted', { name: label(p.kind, p.x) }));
}

/* ---- settings, export, import, report ------------------------------------ */

async function loadSettings() {
  const r = await api('GET', 'settings');
  if (r.status === 200) $('mask').checked = !!r.body.mask_sensitive_data;
  updateReportLink();
}

$('mask').addEventListener('change', async () => {
  const want = $('mask').checked;
  say('mask-status', () => '');
  say('mask-error', () => '');
  const r = await api('PUT', 'settings', { mask_sensitive_data: want });
  if (r.status !== 200) {
    $('mask').checked = !want;
    say('mask-error', () => errText(r));
    return;
  }
  $('mask').checked = !!r.body.mask_sensitive_data;
  say('mask-status', () => t(r.body.mask_sensitive_data ? 'mask_saved_on' : 'mask_saved_off'));
});

$('export').addEventListener('click', async () => {
  say('import-error', () => '');
  const r = await api('GET', 'export');
  if (r.status !== 200) { say('import-error', () => errText(r)); return; }
  const blob = new Blob([JSON.stringify(r.body, null, 2) + '\n'], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `textdesk-config-${isoDay(new Date())}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
});

$('import').addEventListener('click', async () => {
  say('import-status', () => '');
  say('import-error', () => '');
  const file = $('import-file').files[0];
  if (!file) { say('import-error', () => t('import_pick')); return; }
  const r = await api('POST', 'import', await file.text(), true);
  if (r.status !== 200) {
    say('import-error', () => errWithField(r));
    return;
  }
  await loadAll();
  await loadSettings();
  say('import-status', () => t('import_ok'));
});

function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

// Local calendar days: from the start of 'from' to the end of 'to'.
function updateReportLink() {
  const today = isoDay(new Date());
  if (!$('report-from').value) $('report-from').value = today;
  if (!$('report-to').value) $('report-to').value = today;
  const from = new Date(`${$('report-from').value}T00:00:00`).getTime();
  const to = new Date(`${$('report-to').value}T00:00:00`);
  to.setDate(to.getDate() + 1);
  const ok = Number.isFinite(from) && Number.isFinite(to.getTime());
  $('report-link').href = ok ? `/api/admin/report/conversations.csv?from=${from}&to=${to.getTime()}` : '/api/admin/report/conversations.csv';
  $('report-link').download = `conversations-${$('report-from').value}-${$('report-to').value}.csv`;
}
$('report-from').addEventListener('change', updateReportLink);
$('report-to').addEventListener('change', updateReportLink);

/* ---- login, session, language -------------------------------------------- */

function showLogin(msg = '') {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = msg;
  $('login-user').focus();
}

async function startApp() {
  // no session: the login form, without asking the API for a 401 first
  const s = await fetch('/api/session').then(async (x) => ({ status: x.status, body: x.ok ? await x.json() : {} }),
    () => ({ status: 0, body: {} }));
  if (startAgain(s.status, startApp)) { showLogin(t('start_retry')); return; }
  const me = s.body;
  if (!me.logged_in) { showLogin(); return; }
  const r = await api('GET', 'settings');
  if (startAgain(r.status, startApp)) { showLogin(t('start_retry')); return; }
  if (r.status === 403) { showLogin(t('not_admin')); return; }
  if (r.status !== 200) { showLogin(r.status === 401 ? '' : errText(r)); return; }
  $('who').textContent = me.username || '';
  // the lists first: a tab clicked while they load would find no data and
  // fall back to Agents (seen under load: the click on a tab was lost)
  await loadAll();
  $('login').hidden = true;
  $('app').hidden = false;
  selectTab(location.hash.slice(1) || 'agents');
}

bindLoginForm(startApp);

$('logout').addEventListener('click', async () => {
  await fetch('/api/logout', { method: 'POST' }).catch(() => {});
  showLogin();
});

for (const b of document.querySelectorAll('.tab')) b.addEventListener('click', () => selectTab(b.dataset.kind));
addEventListener('resize', () => keyboardScroll());
$('tabs').addEventListener('keydown', (e) => {
  const tabs = [...document.querySelectorAll('.tab')].filter((b) => !b.hidden);
  const i = tabs.indexOf(document.activeElement);
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (i < 0 || to === undefined) return;
  e.preventDefault();
  const b = tabs[(to + tabs.length) % tabs.length];
  selectTab(b.dataset.kind);
  b.focus();
});
for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));
$('btn-new').addEventListener('click', () => { openForm(null); $('f-id').focus(); });
$('form-cancel').addEventListener('click', () => openForm(null));
$('edit-form').addEventListener('submit', save);
$('confirm-ok').addEventListener('click', doDelete);
$('confirm-cancel').addEventListener('click', () => { pendingDelete = null; $('dlg-confirm').close(); });
onLang(() => {
  if ($('app').hidden) return;
  resay();
  if (PANELS.has(S.kind)) { selectTab(S.kind); return; }
  renderList();
  const x = (S.data[S.kind] || []).find((e) => e.id === S.editing);
  openForm(x || null);
});

(async () => {
  await setLang(storedLang(), false);
  await startApp();
})();
