// The supervisor's page (/supervisor/): the server pushes the overview over
// a WebSocket (/ws with the supervisor's session) as events happen (a whole
// "overview" first, then "delta" frames with what changed in view; a big
// list is paged: the page tells the server which slice it shows), and the
// page shows the queues (waiting, longest wait, service level today, counters),
// the agents (state in the desktop's colours, time in state, load) and the
// open conversations; a click on a conversation reads it, read-only, from
// /api/supervisor/conversations/ID (masked by the server when masking is
// on). Strings from supervisor/i18n/*.json.
import { t, setLang, storedLang, onLang, currentLang } from '/js/i18n.js';
import { bindLoginForm, startAgain } from '/js/login_form.js';
import { $, el, dur, clock, initials, keyboardScroll, say, resay } from '/js/util.js';

if (!location.pathname.endsWith('/')) location.replace(`${location.pathname}/${location.search}${location.hash}`);

const TICK_MS = 1000; // the clocks on screen tick locally between pushes
const PAGE = 100; // rows of a list shown at a time (the server's slice)
const S = { overview: null, lastOk: 0, receivedAt: 0, timer: null, running: false, reading: 0, conv: null, gone: false, ws: null };
// Time since the last push, added to the durations it carried.
const since = () => (S.receivedAt ? Date.now() - S.receivedAt : 0);
// The server's clock now, estimated from the last push.
const serverNow = () => S.overview.now + since();

/* ---- the feed's frames into the page's state ------------------------------ */
// S.overview: { now, queues: [...], agents: list, conversations: list,
// idle_reasons }, a list being { total, offset, limit, ids, rows: Map }.

function listFrom(l, old) {
  if (Array.isArray(l)) { // GET /api/supervisor/overview: everything
    const rows = l.slice(0, PAGE);
    return { total: l.length, offset: 0, limit: PAGE, ids: rows.map((x) => x.id), rows: new Map(rows.map((x) => [x.id, x])) };
  }
  const out = { total: l.total, offset: l.offset, limit: l.limit, ids: l.ids || old.ids, rows: old ? new Map(old.rows) : new Map() };
  for (const x of l.rows) out.rows.set(x.id, x);
  for (const id of out.rows.keys()) if (!out.ids.includes(id)) out.rows.delete(id);
  return out;
}

function applyFrame(o) {
  const prev = S.overview;
  if (o.type !== 'delta' || !prev) {
    S.overview = { now: o.now, queues: o.queues, idle_reasons: o.idle_reasons || prev?.idle_reasons || [],
      agents: listFrom(o.agents), conversations: listFrom(o.conversations) };
    return;
  }
  const q = new Map(o.queues.map((x) => [x.id, x]));
  S.overview = { now: o.now, idle_reasons: prev.idle_reasons, queues: prev.queues.map((x) => q.get(x.id) || x),
    agents: listFrom(o.agents, prev.agents), conversations: listFrom(o.conversations, prev.conversations) };
}

const shown = (l) => l.ids.map((id) => l.rows.get(id)).filter(Boolean);

// Asks the server for another slice of the agents or conversations.
function sendView() {
  if (S.ws && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify({ type: 'view', ...S.view }));
}

function page(which, step) {
  const l = S.overview[which === 'agents' ? 'agents' : 'conversations'];
  const offset = Math.max(0, Math.min(l.offset + step * l.limit, Math.max(0, l.total - 1)));
  S.view = { ...S.view, [which === 'agents' ? 'agents' : 'conversations']: { offset, limit: PAGE } };
  sendView();
}

function renderPager(key, l) {
  const many = l.total > l.ids.length || l.offset > 0;
  $(`${key}-pager`).hidden = !many;
  if (!many) return;
  $(`${key}-range`).textContent = t('page_range', { from: l.ids.length ? l.offset + 1 : 0, to: l.offset + l.ids.length, total: l.total });
  $(`${key}-prev`).disabled = l.offset === 0;
  $(`${key}-next`).disabled = l.offset + l.ids.length >= l.total;
}

async function getJson(path) {
  try {
    const r = await fetch(path, { cache: 'no-store' });
    let body = {};
    try { body = await r.json(); } catch { /* empty */ }
    return { status: r.status, body };
  } catch {
    return { status: 0, body: {} };
  }
}

/* ---- rendering ----------------------------------------------------------- */

const num = (cls, v) => el('td', { class: `num ${cls}`, text: String(v) });

function renderQueues(o) {
  const rows = o.queues.map((q) => el('tr', { dataset: { id: String(q.id) } },
    el('th', { scope: 'row', class: 'q-name', text: q.name }),
    el('td', { class: `num q-waiting${q.waiting ? ' hot' : ''}`, text: String(q.waiting) }),
    el('td', { class: `num q-longest mono${q.longest_wait_ms >= 60000 ? ' hot' : ''}`, text: dur(q.waiting && q.oldest_at ? Math.max(0, serverNow() - q.oldest_at) : 0) }),
    el('td', { class: `num q-sl${q.sl_today_pct != null && q.sl_today_pct < 80 ? ' hot' : ''}`, text: q.sl_today_pct == null ? '–' : `${q.sl_today_pct.toFixed(0)} %` }),
    num('q-offered', q.offered), num('q-answered', q.answered), num('q-terminated', q.terminated), num('q-rona', q.rona)));
  $('queue-body').replaceChildren(...rows);
  $('queues-empty').hidden = rows.length > 0;
}

function renderAgents(o) {
  const rows = shown(o.agents).map((a) => el('tr', { dataset: { id: String(a.id) } },
    el('th', { scope: 'row', class: 'a-name', text: a.name }),
    el('td', { class: 'a-state' },
      el('span', { class: `state-cell state-${a.state}` },
        el('span', { class: `dot state-${a.state}`, 'aria-hidden': 'true' }),
        el('span', { class: 'a-state-text', text: t(`state_${a.state}`) }),
        a.state !== 'logged_out' && !a.connected ? el('span', { class: 'sub', text: `(${t('a_offline')})` }) : null)),
    el('td', { class: 'num a-time mono', text: a.state === 'logged_out' ? '' : dur(a.state_since ? Math.max(0, serverNow() - a.state_since) : 0) }),
    el('td', { class: 'num a-load mono' },
      el('span', { class: 'a-load-value', text: t('a_load_cell', { load: a.load, capacity: a.capacity }) }),
      a.reserved ? el('span', { class: 'sub a-reserved', text: ` ${t('a_reserved', { n: a.reserved })}` }) : null),
    el('td', { class: 'a-skills', text: (a.skills || []).map((k) => `${k.name} ${k.level}`).join(', ') }),
    el('td', { class: 'actions' }, a.state === 'logged_out' ? null
      : el('button', { type: 'button', class: 'a-force', text: t('a_force'), 'aria-label': t('a_force_for', { name: a.name }), onclick: () => openForce(a) }))));
  $('agent-body').replaceChildren(...rows);
  $('agents-empty').hidden = rows.length > 0;
  renderPager('agents', o.agents);
}

function renderConvs(o) {
  const rows = shown(o.conversations).map((c) => {
    const agent = [c.owner_name, c.guest_name].filter(Boolean).join(' + ');
    return el('tr', {
      class: `conv-row${S.reading === c.id ? ' selected' : ''}`, dataset: { id: String(c.id) },
      onclick: (e) => { if (!e.target.closest('button')) read(c.id); },
    },
    el('th', { scope: 'row', class: 'c-number' },
      el('button', { type: 'button', class: 'linkish', text: c.number, 'aria-label': t('c_read', { number: c.number }), onclick: () => read(c.id) }),
      c.outbound ? el('span', { class: 'sub', text: ` (${t('c_outbound')})` }) : null),
    el('td', { class: 'c-ep', text: c.ep_number }),
    el('td', { class: 'c-queue', text: c.queue_name }),
    el('td', { class: 'c-state' }, el('span', { class: `cstate cstate-${c.state}`, text: t(`cstate_${c.state}`) })),
    el('td', { class: 'c-agent', text: agent }),
    el('td', { class: 'num c-open mono', text: dur(serverNow() - c.opened_at) }));
  });
  $('conv-body').replaceChildren(...rows);
  $('convs-empty').hidden = rows.length > 0;
  renderPager('convs', o.conversations);
}

function renderUpdated() {
  const u = $('updated');
  if (!S.lastOk) { u.textContent = ''; return; }
  const stale = !S.ws || S.ws.readyState !== WebSocket.OPEN;
  const time = new Date(S.lastOk).toLocaleTimeString(currentLang() === 'en' ? 'en-GB' : 'sv-SE');
  u.textContent = t(stale ? 'stale' : 'updated', { time });
  u.classList.toggle('stale', stale);
}

// A node of a cluster says its name and epoch in /api/health (the load
// balancer's node); a single server says neither and nothing is shown.
async function renderNode() {
  const h = await getJson('/api/health');
  const n = $('node');
  n.hidden = !h.body.node;
  if (h.body.node) n.textContent = t('served_by', { node: h.body.node, epoch: h.body.epoch });
}

function render() {
  const o = S.overview;
  if (!o) return;
  renderQueues(o);
  renderAgents(o);
  renderConvs(o);
  renderUpdated();
  keyboardScroll();
}
addEventListener('resize', () => keyboardScroll());

/* ---- the read-only conversation ----------------------------------------- */

function sysText(m) {
  const v = { agent: m.agent_name || '', target: m.target_name || '', queue: m.queue_name || '', event: m.event, supervisor: m.supervisor || '' };
  if (m.event === 'queued') return t('sys_queued', v);
  if (m.event === 'transferred' && m.target_name) return t('sys_transferred_to', v);
  if (m.event === 'transferred') return t('sys_transferred_queue', v);
  const k = `sys_${m.event}`;
  const s = t(k, v);
  return s === k ? t('sys_other', v) : s;
}

function item(m, conv) {
  const at = el('time', { class: 'at', dateTime: new Date(m.at).toISOString(), text: clock(m.at, currentLang()) });
  if (m.kind === 'system' && m.event === 'note') { // an internal note: never sent
    return el('li', { class: 'whisper' },
      el('div', { class: 'bubble bubble-note' },
        el('p', { class: 'note-head' }, el('strong', { text: t('note_label') }), ` · ${m.supervisor ? t('by_supervisor', { name: m.supervisor }) : m.agent_name || ''} · `,
          el('span', { class: 'note-private', text: t('note_private') })),
        el('p', { class: 'text', text: m.text || '' }),
        el('div', { class: 'meta' }, at)));
  }
  if (m.kind === 'system') {
    return el('li', { class: `sys sys-${m.event}` }, el('span', { text: sysText(m) }), ' ', at);
  }
  if (m.dir === 'in') {
    return el('li', { class: 'msg msg-in', dataset: { seq: String(m.seq) } },
      el('span', { class: 'avatar', 'aria-hidden': 'true', text: initials('', conv.number) }),
      el('div', { class: 'bubble bubble-customer' },
        el('span', { class: 'visually-hidden', text: `${t('customer')}: ` }),
        el('p', { class: 'text', text: m.text }),
        el('div', { class: 'meta' }, at)));
  }
  return el('li', { class: 'msg msg-out', dataset: { seq: String(m.seq) } },
    el('div', { class: 'bubble bubble-agent' },
      el('span', { class: 'who', text: `${m.agent_name || (m.supervisor ? t('by_supervisor', { name: m.supervisor }) : t('auto_reply'))}: ` }),
      el('p', { class: 'text', text: m.text }),
      el('div', { class: 'meta' }, at)));
}

function renderReader() {
  const c = S.conv;
  $('reader-empty').hidden = !!S.reading;
  $('reader-body').hidden = !S.reading;
  $('reader-close').hidden = !S.reading;
  $('reader-transcript').hidden = !c;
  $('reader-gone').hidden = !S.gone;
  $('reader-unmask').hidden = !c || !(c.masked || S.unmasked);
  $('reader-unmask').setAttribute('aria-pressed', String(!!S.unmasked));
  $('reader-unmask').textContent = t(S.unmasked ? 'mask_again' : 'unmask');
  $('reader-unmasked').hidden = !c || !S.unmasked;
  if (!c) { $('reader-transcript').replaceChildren(); $('sup-actions').hidden = true; $('reader-tag').textContent = t('read_only'); return; }
  $('reader-title').textContent = c.number;
  renderActions(c);
  $('reader-number').textContent = t('reader_sub', { ep: c.ep_number, n: c.messages.filter((m) => m.kind !== 'system').length });
  const box = $('reader-transcript');
  const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const key = JSON.stringify(c.messages.map((m) => [m.kind, m.seq, m.text, m.at, m.event]));
  if (box.dataset.key !== key || box.dataset.lang !== currentLang()) {
    box.replaceChildren(...c.messages.map((m) => item(m, c)));
    box.dataset.key = key;
    box.dataset.lang = currentLang();
    if (atEnd || box.dataset.conv !== String(c.id)) box.scrollTop = box.scrollHeight;
    box.dataset.conv = String(c.id);
  }
}

/* ---- stepping in: note, barge, take over --------------------------------- */

// What this supervisor may do in the conversation being read.
function renderActions(c) {
  const open = c && !S.gone && c.state !== 'wrapup';
  const mine = !!c && c.supervisor === S.user;
  const taken = mine && !c.owner_name;
  const accepted = !!c && c.state === 'assigned';
  $('sup-actions').hidden = !open;
  $('reader-tag').textContent = t(taken ? 'tag_taken' : mine ? 'tag_joined' : 'read_only');
  $('sup-barge').hidden = mine || !accepted || !!c.supervisor;
  $('sup-take').hidden = taken || !accepted || (!!c.supervisor && !mine) || c.conference !== 'none';
  $('sup-leave').hidden = !mine || taken;
  $('sup-end').hidden = !taken;
  $('sup-mode-sms').hidden = !mine;
  if (!mine) document.querySelector('input[name="sup-mode"][value="note"]').checked = true;
}

// What a refused request says, in the page's language, with what to do:
// err_CODE for every core error code and the API's own (a 401 is the
// session, not the agent's login); a code this page does not know reads
// as a general text that names it (err_unknown), never the server's words.
function errText(status, b) {
  const k = status === 401 ? 'err_session' : `err_${b.error}`;
  const s = t(k);
  return s === k ? t('err_unknown', { code: b.error || status }) : s;
}

async function act(action, body) {
  const id = S.reading;
  say('sup-error', () => '');
  let r;
  try {
    r = await fetch(`/api/supervisor/conversations/${id}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  } catch { say('sup-error', () => t('err_network')); return false; }
  if (r.status !== 200) {
    let b = {};
    try { b = await r.json(); } catch { /* empty */ }
    say('sup-error', () => errText(r.status, b));
    return false;
  }
  await fetchConv();
  return true;
}
$('sup-barge').addEventListener('click', () => act('barge'));
$('sup-take').addEventListener('click', () => act('take_over'));
$('sup-leave').addEventListener('click', () => act('leave'));
$('sup-end').addEventListener('click', () => act('end'));
$('sup-write').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('sup-text').value;
  if (!text.trim()) { say('sup-error', () => t('write_empty')); return; }
  const mode = document.querySelector('input[name="sup-mode"]:checked').value;
  if (await act(mode, { text })) $('sup-text').value = '';
});

async function fetchConv() {
  const id = S.reading;
  if (!id) return;
  // unmasked on request only, while masking is on: each fetch is audited
  const r = await getJson(`/api/supervisor/conversations/${id}${S.unmasked ? '?unmasked=1' : ''}`);
  if (S.reading !== id) return;
  if (r.status === 200) { S.conv = r.body; S.gone = false; }
  else if (r.status === 404) S.gone = true;
  renderReader();
}

async function read(id) {
  if (S.reading !== id) { S.conv = null; S.gone = false; S.unmasked = false; $('reader-transcript').dataset.key = ''; }
  if (S.reading !== id) { S.reading = id; S.view = { ...S.view, reading: id }; sendView(); }
  for (const tr of $('conv-body').children) tr.classList.toggle('selected', tr.dataset.id === String(id));
  renderReader();
  await fetchConv();
}

$('reader-unmask').addEventListener('click', async () => {
  S.unmasked = !S.unmasked;
  $('reader-transcript').dataset.key = '';
  await fetchConv();
  $('reader-unmask').focus();
});

function closeReader() {
  S.unmasked = false;
  S.reading = 0;
  S.view = { ...S.view, reading: 0 };
  sendView();
  S.conv = null;
  S.gone = false;
  $('reader-title').textContent = t('reader');
  for (const tr of $('conv-body').querySelectorAll('.selected')) tr.classList.remove('selected');
  renderReader();
}

/* ---- force state ------------------------------------------------------------ */

let forcing = 0;
function openForce(a) {
  forcing = a.id;
  $('force-title').textContent = t('force_title', { name: a.name });
  const reasons = (S.overview.idle_reasons || []).map((r) => el('option', { value: `idle:${r.id}`, text: t('force_idle_reason', { reason: r.name }) }));
  $('force-state').replaceChildren(el('option', { value: 'idle:0', text: t('force_idle') }), ...reasons,
    el('option', { value: 'logged_out', text: t('force_logout') }));
  $('force-message').value = '';
  say('force-error', () => '');
  $('force').hidden = false;
  $('force-state').focus();
}
$('force-cancel').addEventListener('click', () => { $('force').hidden = true; forcing = 0; });
$('force').addEventListener('submit', async (e) => {
  e.preventDefault();
  const [state, reason] = $('force-state').value.split(':');
  const body = { state, ...(reason && reason !== '0' ? { reason: Number(reason) } : {}), message: $('force-message').value };
  let r;
  try {
    r = await fetch(`/api/supervisor/agents/${forcing}/state`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch { say('force-error', () => t('err_network')); return; }
  if (r.status === 200) { $('force').hidden = true; forcing = 0; return; }
  let b = {};
  try { b = await r.json(); } catch { /* empty */ }
  say('force-error', () => errText(r.status, b));
});

/* ---- the live feed -------------------------------------------------------- */

function connect() {
  if (!S.running) return;
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  S.ws = ws;
  ws.onopen = () => {
    renderNode(); // a cluster: which node serves now (after a takeover too)
    if (S.view) ws.send(JSON.stringify({ type: 'view', ...S.view })); // the pages shown before
  };
  ws.onmessage = async (m) => {
    let o;
    try { o = JSON.parse(m.data); } catch { return; }
    if (o.type !== 'overview' && o.type !== 'delta') return;
    applyFrame(o);
    S.lastOk = S.receivedAt = Date.now();
    render();
    // the conversation being read follows live: read anew after its events
    if (S.reading && (o.type === 'overview' || (o.touched || []).includes(S.reading))) await fetchConv();
  };
  ws.onclose = () => {
    if (S.ws !== ws) return;
    S.ws = null;
    renderUpdated();
    if (S.running) setTimeout(async () => { // signed out meanwhile? the login card
      const r = await getJson('/api/supervisor/overview');
      if (r.status === 401 || r.status === 403) { showLogin(r.status === 403 ? t('not_supervisor') : ''); return; }
      connect();
    }, 2000);
  };
}

function tick() {
  if (!S.running) return;
  render();
  S.timer = setTimeout(tick, TICK_MS);
}

function stop() {
  S.running = false;
  clearTimeout(S.timer);
  if (S.ws) { const ws = S.ws; S.ws = null; ws.close(); }
}

/* ---- login, session, language -------------------------------------------- */

function showLogin(msg = '') {
  stop();
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = msg;
  $('login-user').focus();
}

async function startApp() {
  // no session: the login form, without asking the API for a 401 first
  const me = await getJson('/api/session');
  if (startAgain(me.status, startApp)) { showLogin(t('start_retry')); return; }
  if (!me.body.logged_in) { showLogin(); return; }
  const r = await getJson('/api/supervisor/overview');
  if (startAgain(r.status, startApp)) { showLogin(t('start_retry')); return; }
  if (r.status === 403) { showLogin(t('not_supervisor')); return; }
  if (r.status !== 200) { showLogin(r.status === 401 ? '' : errText(r.status, r.body)); return; }
  $('who').textContent = me.body.username || '';
  S.user = me.body.username || '';
  $('login').hidden = true;
  $('app').hidden = false;
  applyFrame(r.body);
  S.lastOk = Date.now();
  render();
  renderReader();
  S.receivedAt = Date.now();
  S.running = true;
  clearTimeout(S.timer);
  S.timer = setTimeout(tick, TICK_MS);
  connect();
}

bindLoginForm(startApp);

$('logout').addEventListener('click', async () => {
  stop();
  await fetch('/api/logout', { method: 'POST' }).catch(() => {});
  closeReader();
  showLogin();
});
$('reader-close').addEventListener('click', closeReader);
$('agents-prev').addEventListener('click', () => page('agents', -1));
$('agents-next').addEventListener('click', () => page('agents', 1));
$('convs-prev').addEventListener('click', () => page('conversations', -1));
$('convs-next').addEventListener('click', () => page('conversations', 1));
// The wallboard: the queues alone, large, for a screen on the wall
// (/supervisor/?wallboard, or the button).
function wallboard(on) {
  document.body.classList.toggle('wallboard', on);
  $('wallboard').setAttribute('aria-pressed', String(on));
}
$('wallboard').addEventListener('click', () => wallboard(!document.body.classList.contains('wallboard')));
if (new URLSearchParams(location.search).has('wallboard')) wallboard(true);
for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));
onLang(() => {
  resay();
  render();
  if (!S.conv) $('reader-title').textContent = t('reader');
  renderReader();
});

(async () => {
  await setLang(storedLang(), false);
  await startApp();
})();
