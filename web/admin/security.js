// The administrator's API tokens and audit trail tabs (/admin/#tokens,
// /admin/#audit; docs/security.md). A new token's secret is shown once,
// in a read-only field; the list never has it. The audit trail is read
// only: filters, older pages, CSV.
import { t, currentLang } from '/js/i18n.js';
import { $, el, keyboardScroll } from '/js/util.js';
import { call, errText, say } from './call.js';

const when = (ms) => (ms ? new Date(ms).toLocaleString(currentLang() === 'en' ? 'en-GB' : 'sv-SE') : '');

/* ---- tokens --------------------------------------------------------------- */

let agents = [];

function roleText(tok) {
  const r = t(`role_${tok.role}`);
  if (tok.role !== 'agent') return r;
  const a = agents.find((x) => x.id === tok.agent);
  return `${r}: ${a ? a.name : `#${tok.agent}`}`;
}

async function loadTokens() {
  const r = await call('GET', 'tokens');
  const body = $('tok-body');
  body.replaceChildren();
  if (r.status !== 200) {
    say('tok-status', () => '');
    say('tok-error', () => errText(r));
    return;
  }
  for (const tok of r.body.tokens) {
    const revoke = tok.state === 'active'
      ? el('button', { type: 'button', class: 'danger', text: t('tok_revoke'), 'aria-label': t('tok_revoke_named', { name: tok.name }), onclick: () => revokeToken(tok) })
      : null;
    body.append(el('tr', {},
      el('td', { text: tok.name }),
      el('td', { text: roleText(tok) }),
      el('td', { text: tok.expires_at ? when(tok.expires_at) : t('tok_never') }),
      el('td', { text: t(`tok_state_${tok.state}`) }),
      el('td', {}, revoke)));
  }
  $('tok-empty').hidden = r.body.tokens.length > 0;
  keyboardScroll(); // a table wider than a phone scrolls, by keyboard too
}

async function revokeToken(tok) {
  const r = await call('DELETE', `tokens/${tok.id}`);
  say('tok-status', () => r.status === 200 ? t('tok_revoked', { name: tok.name }) : '');
  say('tok-error', () => r.status === 200 ? '' : errText(r));
  await loadTokens();
  $('tok-name').focus();
}

function syncRole() {
  $('tok-agent-field').hidden = $('tok-role').value !== 'agent';
}

async function createToken(ev) {
  ev.preventDefault();
  const body = { name: $('tok-name').value.trim(), role: $('tok-role').value };
  if (body.role === 'agent') body.agent = Number($('tok-agent').value);
  const days = $('tok-days').value.trim();
  if (days) body.expires_in_days = Number(days);
  const r = await call('POST', 'tokens', body);
  if (r.status !== 201) {
    say('tok-error', () => errText(r));
    $('tok-secret-box').hidden = true;
    return;
  }
  say('tok-error', () => '');
  $('tok-secret').value = r.body.token;
  $('tok-secret-box').hidden = false;
  $('tok-name').value = '';
  $('tok-days').value = '';
  say('tok-status', () => t('tok_created', { name: r.body.name }));
  await loadTokens();
  $('tok-secret').focus();
  $('tok-secret').select();
}

export function showTokens(list) {
  agents = list;
  const sel = $('tok-agent');
  sel.replaceChildren(...agents.map((a) => el('option', { value: String(a.id), text: a.name })));
  syncRole();
  say('tok-error', () => '');
  loadTokens();
}

$('tok-role').addEventListener('change', syncRole);
$('tok-form').addEventListener('submit', createToken);

/* ---- audit trail ---------------------------------------------------------- */

let before = null;

function query() {
  const q = new URLSearchParams();
  const actor = $('audit-actor').value.trim();
  const action = $('audit-action').value.trim();
  if (actor) q.set('actor', actor);
  if (action) q.set('action', action);
  if ($('audit-from').value) q.set('from', String(new Date(`${$('audit-from').value}T00:00`).getTime()));
  if ($('audit-to').value) {
    const to = new Date(`${$('audit-to').value}T00:00`);
    to.setDate(to.getDate() + 1);
    q.set('to', String(to.getTime()));
  }
  return q;
}

function what(e) {
  if (e.action === 'login') return t(e.detail === 'ok' ? 'audit_login_ok' : 'audit_login_failed');
  return e.action;
}

async function loadAudit(more) {
  const q = query();
  $('audit-csv').href = `/api/admin/audit.csv?${q}`;
  if (more && before) q.set('before', String(before));
  const r = await call('GET', `audit?${q}`);
  const body = $('audit-body');
  if (!more) body.replaceChildren();
  if (r.status !== 200) {
    say('audit-error', () => errText(r));
    return;
  }
  say('audit-error', () => '');
  for (const e of r.body.entries) {
    body.append(el('tr', {},
      el('td', { text: when(e.at) }),
      el('td', { text: e.actor }),
      el('td', { text: t(`audit_via_${e.via}`) }),
      el('td', { text: e.peer || '' }),
      el('td', { text: what(e) }),
      el('td', { text: e.action === 'login' ? '' : e.detail || '' })));
  }
  before = r.body.next_before;
  $('audit-more').hidden = !before;
  $('audit-empty').hidden = body.children.length > 0;
  keyboardScroll();
}

export function showAudit() {
  loadAudit(false);
}

$('audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadAudit(false); });
$('audit-more').addEventListener('click', () => loadAudit(true));
