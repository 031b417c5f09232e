// The agent desktop: login, the WebSocket event loop that keeps S in step
// with the server, and the handlers of the header, task list, pane,
// composer and offer popover. docs/desktop.md describes the screens.
import { $, announce, focusable, say, resay } from './util.js';
import { t, setLang, storedLang, onLang } from './i18n.js';
import { Conn } from './conn.js';
import { bindLoginForm } from './login_form.js';
import { cannedInput, cannedKey, closeCanned } from './canned.js';
import { S, OFFER_ROLES, TASK_ROLES, title } from './state.js';
import {
  renderHeader, renderConn, renderTasks, renderTaskRow, renderPane, renderOffers, appendItem,
  updateDelivery, updateComposerState, forceTranscript, tick, tasks, offers, canWrite,
  renderHistory, stateValue,
} from './render.js';
import {
  openTransfer, openConference, openWrapup, openOutbound, wrapupConv, refreshOpenDialogs,
  dialogHooks, errText, open as openDialog,
} from './dialogs.js';

/* ---- rendering schedule ---------------------------------------------- */

let frame = 0;
function renderSoon() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderAll();
  });
}

function renderAll() {
  renderHeader();
  renderTasks();
  renderPane();
  renderHistory();
  renderOffers();
  refreshOpenDialogs();
  $('desk').dataset.view = S.view;
  if (refocus) { refocus = false; if (!focusable(document.activeElement)) focusFallback(); }
}

// Focus after what held it went away (a conversation closed, a dialog
// closed whose opener is gone): the composer of the open conversation, its
// first control, the selected or first task, else the empty pane's text.
let refocus = false;
function focusFallback() {
  if (document.querySelector('dialog[open]') || $('desk').hidden) return;
  const c = S.convs.get(S.selected);
  const narrow = matchMedia('(max-width: 899px)').matches;
  if (c && canWrite(c) && (!narrow || S.view === 'conv')) { $('composer-text').focus(); return; }
  const ctl = [...document.querySelectorAll('#pane-body .controls button')].find(focusable);
  if (c && ctl && (!narrow || S.view === 'conv')) { ctl.focus(); return; }
  const row = document.querySelector('#task-list .task[tabindex="0"]') || document.querySelector('#task-list .task');
  if (row && focusable(row)) { S.view = 'tasks'; row.focus(); return; }
  $('pane-empty-text').focus();
}

// 'msg': the text, or how to word it (worded anew when the language changes)
function showError(msg) {
  const b = $('banner-error');
  say('error-text', typeof msg === 'function' ? msg : () => msg);
  b.hidden = !$('error-text').textContent;
  clearTimeout(showError.timer);
  if (msg) showError.timer = setTimeout(() => { b.hidden = true; }, 8000);
}

/* ---- transcript store ------------------------------------------------ */

function txOf(id) {
  let tx = S.tx.get(id);
  // bySeq: the messages among 'items' by their seq (a new message's
  // duplicate check and a delivery report find theirs without a scan)
  if (!tx) { tx = { loaded: false, loading: false, items: [], bySeq: new Map(), version: 0 }; S.tx.set(id, tx); }
  return tx;
}

function sortItems(items) {
  items.sort((a, b) => a.at - b.at || (a.kind === 'msg' && b.kind === 'msg' ? a.seq - b.seq : a.kind === 'msg' ? -1 : 1));
}

// Fetches the transcript (messages and stored system notes, in order) and
// merges it with what events brought meanwhile: messages deduplicated by
// seq; live system lines newer than the transcript are kept.
async function loadTx(id) {
  const tx = txOf(id);
  if (tx.loading) return;
  tx.loading = true;
  const r = await S.conn.cmd('messages', { conv: id });
  tx.loading = false;
  if (!r.ok) return;
  const bySeq = new Map();
  const sys = [];
  for (const m of r.messages) {
    if (m.kind === 'system') sys.push({ ...m, kind: 'sys' });
    else bySeq.set(m.seq, { ...m, kind: 'msg' });
  }
  for (const it of tx.items) if (it.kind === 'msg' && !bySeq.has(it.seq)) bySeq.set(it.seq, it);
  const lastStored = Math.max(0, ...r.messages.map((m) => m.at));
  const live = tx.items.filter((x) => x.kind === 'sys' && x.at > lastStored);
  const items = [...bySeq.values(), ...sys, ...live];
  sortItems(items);
  tx.items = items;
  tx.bySeq = bySeq;
  tx.loaded = true;
  tx.version++;
  renderSoon();
}

// The customer's earlier conversations, for the history panel.
async function loadHistory(id) {
  const r = await S.conn.cmd('history', { conv: id });
  if (!r.ok || S.selected !== id) return;
  S.history.set(id, r.history);
  renderHistory();
}

/* ---- server events --------------------------------------------------- */

function noteNames(c) {
  if (c.owner && c.owner_name) S.names.set(c.owner, c.owner_name);
  if (c.guest && c.guest_name) S.names.set(c.guest, c.guest_name);
}

function offerHead(c) {
  if (c.role === 'invited') return t('offer_invite', { agent: c.owner_name });
  if (c.offer_kind === 'transfer') return c.from_agent_name ? t('offer_transfer', { agent: c.from_agent_name }) : t('offer_transfer_plain');
  return t('offer_route');
}

function upsert(c, fromSnapshot) {
  const old = S.convs.get(c.id);
  S.convs.set(c.id, c);
  noteNames(c);
  if (OFFER_ROLES.has(c.role) && !S.offerSeen.has(c.id)) {
    S.offerSeen.set(c.id, Date.now());
    if (!fromSnapshot) alertOffer(c);
    announce(t('live_offer', { head: offerHead(c), number: c.number, queue: c.queue_name }), true);
  }
  if (old?.role === 'guest' && c.role === 'wrapup') S.guestOf.set(c.id, old.owner_name);
  if (old && old.state !== 'terminated' && c.state === 'terminated' && TASK_ROLES.has(c.role))
    announce(`${title(c)}: ${t('terminated_warning')}`, true);
  if (old?.role === 'owner' && old.conference === 'requested' && c.conference === 'none' && !fromSnapshot)
    announce(t(confCancelling === c.id ? 'live_conf_cancelled' : 'live_conf_declined'));
  if (!OFFER_ROLES.has(c.role)) S.offerSeen.delete(c.id);
  if (!fromSnapshot && !S.tx.get(c.id)?.loaded) loadTx(c.id);
  // a conference guest whose owner ended: the wrap-up comes to it
  if (old && old.role !== 'wrapup' && c.role === 'wrapup' && c.id === S.selected && !wrapupConv()) openWrapup(c.id);
}

function removeConv(id) {
  const a = document.activeElement;
  if (S.selected === id && (a === document.body || a?.closest?.('#pane, #task-list'))) refocus = true;
  S.convs.delete(id);
  S.guestOf.delete(id);
  S.tx.delete(id);
  S.unread.delete(id);
  S.offerSeen.delete(id);
  S.drafts.delete(id);
  if (S.selected === id) {
    S.selected = 0;
    const ta = $('composer-text');
    ta.dataset.conv = '';
  }
  if (wrapupConv() === id) $('dlg-wrapup').close();
}

function applySnapshot(ev) {
  S.me = ev.me;
  S.names.set(ev.me.id, ev.me.name);
  S.queues = ev.queues;
  S.eps = ev.entry_points;
  S.wrapupReasons = ev.wrapup_reasons;
  S.idleReasons = ev.idle_reasons;
  const ids = new Set(ev.conversations.map((c) => c.id));
  for (const id of [...S.convs.keys()]) if (!ids.has(id)) removeConv(id);
  for (const c of ev.conversations) upsert(c, true);
  // resync every transcript (messages may have arrived while offline) and
  // the selected conversation's history (settings such as masking change both)
  for (const c of ev.conversations) loadTx(c.id);
  S.history.clear();
  if (S.selected && S.convs.has(S.selected)) loadHistory(S.selected);
  if (!S.selected) {
    const first = tasks()[0];
    if (first) S.selected = first.id;
  }
  forceTranscript();
  renderAll();
  if (S.loginFocus) {
    // after login: the open conversation in the task list, else the state
    // menu (the first thing to do then is to become Available)
    S.loginFocus = false;
    const row = document.querySelector('#task-list .task[tabindex="0"]');
    if (row) row.focus(); else $('state-select').focus();
  }
}

function onEvent(ev) {
  switch (ev.type) {
  case 'snapshot':
    applySnapshot(ev);
    break;
  case 'agent':
    if (ev.me.state === 'rona' && S.me?.state !== 'rona') announce(t('rona_text'), true);
    S.me = ev.me;
    renderSoon();
    break;
  case 'conversation':
    upsert(ev.conversation, false);
    renderSoon();
    break;
  case 'conversation_removed':
    removeConv(ev.conv);
    renderSoon();
    break;
  case 'message': {
    const tx = txOf(ev.conv);
    const m = { kind: 'msg', ...ev.message };
    if (tx.bySeq.has(m.seq)) break;
    tx.items.push(m);
    tx.bySeq.set(m.seq, m);
    if (m.agent_name) S.names.set(m.agent, m.agent_name);
    if (m.dir === 'in' && (ev.conv !== S.selected || document.hidden)) S.unread.set(ev.conv, (S.unread.get(ev.conv) || 0) + 1);
    const mc = S.convs.get(ev.conv);
    if (m.dir === 'in' && mc && TASK_ROLES.has(mc.role))
      announce(ev.conv === S.selected ? t('live_message', { from: title(mc), text: m.text }) : t('live_message_other', { from: title(mc) }));
    appendItem(ev.conv, m);
    renderTaskRow(ev.conv);
    if (OFFER_ROLES.has(S.convs.get(ev.conv)?.role)) renderSoon();
    break;
  }
  case 'delivery': {
    const it = S.tx.get(ev.conv)?.bySeq.get(ev.seq);
    if (it) { it.status = ev.status; it.error = ev.error; updateDelivery(ev.conv, ev.seq); }
    const dc = S.convs.get(ev.conv);
    if (ev.status === 'failed' && dc) announce(t('live_failed', { to: title(dc) }), true);
    break;
  }
  case 'supervised': { // a supervisor set our state: say who and why
    const why = [ev.reason_name, ev.message].filter(Boolean).join(' – ');
    const msg = () => t(ev.state === 'idle' ? 'supervised_idle' : 'supervised_logged_out', { by: ev.by });
    showError(() => (why ? `${msg()}: ${why}` : msg()));
    announce(why ? `${msg()}: ${why}` : msg(), true);
    break;
  }
  case 'system': {
    const it = { kind: 'sys', event: ev.event, agent: ev.agent, agent_name: ev.agent_name, why: ev.why, at: ev.at, supervisor: ev.supervisor, text: ev.text };
    txOf(ev.conv).items.push(it);
    appendItem(ev.conv, it);
    if (ev.event === 'taken_over' && S.me && ev.agent === S.me.id) {
      // the conversation leaves this desk: say so where it stays readable
      const dc = S.convs.get(ev.conv);
      const msg = () => t('taken_over_from_you', { supervisor: ev.supervisor || '', customer: dc ? title(dc) : '' });
      showError(msg);
      announce(msg(), true);
    }
    break;
  }
  default:
    break;
  }
}

/* ---- offer alerts ---------------------------------------------------- */

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.15, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.4);
  } catch { /* no audio */ }
}

function alertOffer(c) {
  if (!document.hidden) return;
  beep();
  if ('Notification' in window && Notification.permission === 'granted') {
    const n = new Notification('textdesk', { body: t('notify_offer', { number: c.number }), tag: `offer-${c.id}` });
    n.onclick = () => { window.focus(); n.close(); };
  }
}

/* ---- actions --------------------------------------------------------- */

function select(id, focusComposer) {
  S.selected = id;
  S.view = 'conv';
  $('desk').dataset.view = S.view;
  S.unread.delete(id);
  renderTasks();
  renderPane();
  if (!S.history.has(id)) loadHistory(id);
  else renderHistory();
  if (focusComposer && canWrite(S.convs.get(id))) $('composer-text').focus();
}
dialogHooks({ select, error: showError, focusFallback });

async function run(cmd, fields) {
  const r = await S.conn.cmd(cmd, fields);
  if (!r.ok) showError(() => errText(r));
  return r;
}

async function acceptOffer(id) {
  const c = S.convs.get(id);
  if (!c) return;
  const r = await run(c.role === 'invited' ? 'conference_accept' : 'accept', { conv: id });
  if (r.ok) select(id, true);
}

async function declineOffer(id) {
  const c = S.convs.get(id);
  if (!c) return;
  const r = await run(c.role === 'invited' ? 'conference_decline' : 'decline', { conv: id });
  // the band re-renders on the next frame: then the next offer, or back to work
  if (r.ok) requestAnimationFrame(() => setTimeout(() => {
    if (focusable(document.activeElement)) return;
    const next = document.querySelector('#offer-list .accept');
    if (next) next.focus(); else focusFallback();
  }, 0));
}

$('offer-list').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-act]');
  if (!b) return;
  const id = Number(b.closest('.offer').dataset.conv);
  if (b.dataset.act === 'accept') acceptOffer(id); else declineOffer(id);
});
$('offers-accept-all').addEventListener('click', async () => {
  for (const c of offers()) await acceptOffer(c.id);
});
$('offers-prev').addEventListener('click', () => { S.offerPage--; renderOffers(); });
$('offers-next').addEventListener('click', () => { S.offerPage++; renderOffers(); });

// The state menu commits a choice made with the mouse (or a picker) at
// once; with the arrow keys on the closed menu it only shows the choice,
// which Enter commits and Escape or leaving the menu undoes, so moving
// through the list never changes the agent's state on the way.
async function commitState(sel) {
  sel.dataset.pending = '';
  const v = sel.value;
  if (S.me && v === stateValue(S.me)) return;
  const r = v === 'available' ? await run('set_state', { state: 'available' })
    : await run('set_state', { state: 'idle', reason: Number(v.split(':')[1]) });
  if (!r.ok) { sel.dataset.key = ''; renderHeader(); }
}
function undoState(sel) {
  if (!sel.dataset.pending) return;
  sel.dataset.pending = '';
  renderHeader();
}
const stateSel = $('state-select');
stateSel.addEventListener('change', () => commitState(stateSel));
stateSel.addEventListener('keydown', (e) => {
  const moves = { ArrowDown: 1, ArrowUp: -1, ArrowRight: 1, ArrowLeft: -1, PageDown: 99, PageUp: -99, Home: -99, End: 99 };
  if (e.key in moves && !e.altKey) {
    e.preventDefault();
    const opts = [...stateSel.options].filter((o) => !o.disabled);
    const i = opts.findIndex((o) => o.value === stateSel.value);
    const j = Math.max(0, Math.min(opts.length - 1, (i < 0 ? 0 : i) + moves[e.key]));
    stateSel.value = opts[j].value;
    stateSel.dataset.pending = S.me && opts[j].value !== stateValue(S.me) ? '1' : '';
  } else if (e.key === 'Enter' && stateSel.dataset.pending) {
    e.preventDefault();
    commitState(stateSel);
  } else if (e.key === 'Escape' && stateSel.dataset.pending) {
    e.preventDefault();
    undoState(stateSel);
  }
});
stateSel.addEventListener('blur', () => undoState(stateSel));
$('rona-available').addEventListener('click', () => run('set_state', { state: 'available' }));

$('task-list').addEventListener('click', (e) => {
  const li = e.target.closest('li[data-conv]');
  if (li) select(Number(li.dataset.conv), true);
});
$('task-list').addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return; // Alt+arrows: the desk-wide shortcut
  const list = tasks();
  const i = list.findIndex((c) => c.id === Number(document.activeElement?.dataset?.conv));
  let j = -1;
  if (e.key === 'ArrowDown') j = Math.min(list.length - 1, i + 1);
  else if (e.key === 'ArrowUp') j = Math.max(0, i - 1);
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = list.length - 1;
  else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); if (i >= 0) select(list[i].id, true); return; }
  if (j < 0) return;
  e.preventDefault();
  select(list[j].id, false);
  $(`task-${list[j].id}`)?.focus();
});

$('btn-transfer').addEventListener('click', () => openTransfer(S.selected));
$('btn-conference').addEventListener('click', () => openConference(S.selected));
let confCancelling = 0;
$('btn-cancel-conf').addEventListener('click', async () => {
  confCancelling = S.selected;
  const r = await run('conference_cancel', { conv: S.selected });
  confCancelling = 0;
  if (r.ok) requestAnimationFrame(() => { if (focusable($('btn-conference'))) $('btn-conference').focus(); });
});
$('btn-back').addEventListener('click', () => {
  S.view = 'tasks';
  renderAll();
  document.querySelector('#task-list .task[tabindex="0"]')?.focus();
});
$('btn-details').addEventListener('click', () => { S.view = 'details'; renderAll(); $('btn-side-back').focus(); });
$('btn-side-back').addEventListener('click', () => { S.view = 'conv'; renderAll(); $('btn-details').focus(); });
function menu(open) {
  $('header-actions').classList.toggle('open', open);
  $('menu-btn').setAttribute('aria-expanded', String(open));
}
$('menu-btn').addEventListener('click', () => menu($('menu-btn').getAttribute('aria-expanded') !== 'true'));
$('header-actions').addEventListener('click', (e) => { if (e.target.closest('button:not(.lang-btn)')) menu(false); });
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && $('header-actions').classList.contains('open')) { e.stopPropagation(); menu(false); $('menu-btn').focus(); }
});
document.addEventListener('click', (e) => { if (!e.target.closest('#header-actions, #menu-btn')) menu(false); });
// The skip link: to the composer when a conversation is open, else to
// what stands in for it (its first control, the empty pane's text).
$('skip').addEventListener('click', (e) => {
  e.preventDefault();
  if (focusable($('composer-text'))) $('composer-text').focus();
  else { S.view = S.selected ? 'conv' : S.view; renderAll(); focusFallback(); }
});
function openHelp() { openDialog($('dlg-help'), $('dlg-help').querySelector('.dlg-cancel')); }
$('btn-help').addEventListener('click', openHelp);
$('btn-end').addEventListener('click', async () => {
  const id = S.selected;
  const r = await run('end', { conv: id });
  if (r.ok) openWrapup(id);
});
$('btn-exit-conf').addEventListener('click', async () => {
  const id = S.selected;
  const r = await run('conference_exit', { conv: id });
  if (r.ok) openWrapup(id);
});
$('btn-wrapup').addEventListener('click', () => openWrapup(S.selected));
$('new-outbound').addEventListener('click', openOutbound);
$('error-close').addEventListener('click', () => showError(''));
$('transcript').addEventListener('click', (e) => {
  const b = e.target.closest('button.resend');
  if (b) run('resend', { conv: S.selected, seq: Number(b.dataset.seq) });
});

/* ---- composer -------------------------------------------------------- */

const ta = $('composer-text');
let infoTimer = 0;
let infoSeq = 0;

function showCount(info) {
  $('composer-count').textContent = t('composer_count', {
    chars: ta.value.length,
    segments: info.segments,
    encoding: info.encoding === 'ucs2' ? 'UCS-2' : 'GSM-7',
  });
  $('composer-count').classList.toggle('multi', info.segments > 1);
}

let lastInfo = { segments: 0, encoding: 'gsm7' };
function smsInfoSoon() {
  showCount(lastInfo.text === ta.value ? lastInfo : { ...lastInfo, segments: ta.value ? lastInfo.segments || 1 : 0 });
  clearTimeout(infoTimer);
  infoTimer = setTimeout(async () => {
    const text = ta.value;
    if (!text) { lastInfo = { segments: 0, encoding: 'gsm7', text }; showCount(lastInfo); return; }
    const n = ++infoSeq;
    const r = await S.conn.cmd('sms_info', { text });
    if (n !== infoSeq || !r.ok) return;
    lastInfo = { segments: r.segments, encoding: r.encoding, text };
    if (ta.value === text) showCount(lastInfo);
  }, 120);
}

ta.addEventListener('input', () => {
  const id = Number(ta.dataset.conv);
  if (id) S.drafts.set(id, ta.value);
  smsInfoSoon();
  updateComposerState();
  cannedInput();
});
ta.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== ta) closeCanned(); }, 150));
ta.addEventListener('draftloaded', () => { smsInfoSoon(); });
ta.addEventListener('keydown', (e) => {
  if (cannedKey(e)) return;
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
});
$('composer').addEventListener('submit', (e) => { e.preventDefault(); send(); });
$('composer-note').addEventListener('change', () => updateComposerState());

let sending = false;
async function send() {
  const id = Number(ta.dataset.conv);
  const text = ta.value;
  if (sending || !id || !text.trim() || !canWrite(S.convs.get(id))) return;
  if (!S.online) { showError(() => t('err_offline')); return; }
  sending = true;
  // an internal note goes to agents and supervisors only, never by SMS
  const note = !$('composer-note-row').hidden && $('composer-note').checked;
  const r = await run(note ? 'note' : 'send', { conv: id, text });
  sending = false;
  if (r.ok && Number(ta.dataset.conv) === id && ta.value === text) {
    ta.value = '';
    S.drafts.delete(id);
    smsInfoSoon();
  } else if (r.ok) {
    S.drafts.delete(id);
  }
  updateComposerState();
}

/* ---- keyboard shortcuts ---------------------------------------------- */

document.addEventListener('keydown', (e) => {
  if ($('desk').hidden || document.querySelector('dialog[open]')) return;
  const typing = e.target.closest?.('input, textarea, select, [contenteditable]');
  if (e.key === '?' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) { e.preventDefault(); openHelp(); return; }
  if (!e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.target.tagName === 'SELECT' && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) return; // opens the menu
  const k = e.key.toLowerCase();
  if (k === 'a' || e.code === 'KeyA') { const o = offers()[0]; if (o) { e.preventDefault(); acceptOffer(o.id); } }
  else if (k === 'n' || e.code === 'KeyN') { e.preventDefault(); openOutbound(); }
  else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    const list = tasks();
    if (!list.length) return;
    e.preventDefault();
    const i = list.findIndex((c) => c.id === S.selected);
    const j = e.key === 'ArrowDown' ? Math.min(list.length - 1, i + 1) : Math.max(0, i - 1);
    select(list[j].id, true);
  } else if (e.code === 'KeyM') { e.preventDefault(); ta.focus(); }
});

/* ---- connection, login, logout --------------------------------------- */

function onStatus(st) {
  const was = S.online;
  S.online = st === 'online';
  if (was && !S.online) announce(t('conn_lost'), true);
  if (!was && S.online && S.wasOnline) announce(t('live_online'));
  if (S.online) S.wasOnline = true;
  renderConn();
  if (st === 'reconnecting' && S.conn.attempt >= 3) checkSession();
}

// GET /api/session answers 200 with logged_in true or false: asking
// whether there is a session is no error when there is none.
async function session() {
  const r = await fetch('api/session');
  return r.ok ? r.json() : null;
}

async function checkSession() {
  try {
    const s = await session();
    if (s && !s.logged_in) { S.conn.stop(); showLogin(); }
  } catch { /* server down: keep retrying */ }
}

function showLogin() {
  $('skip').hidden = true; // the login form has nothing to skip to
  $('desk').hidden = true;
  $('login').hidden = false;
  $('login-user').focus();
}

function startDesk(focus) {
  $('skip').hidden = false;
  $('login').hidden = true;
  $('desk').hidden = false;
  S.loginFocus = !!focus; // placed when the snapshot has come (applySnapshot)
  if (!S.conn) S.conn = new Conn({ onEvent, onStatus });
  S.conn.start();
}

// asked on the agent's own click (browsers want a gesture): offers can notify
$('login-form').addEventListener('submit', () => {
  if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
});
bindLoginForm(() => startDesk(true));

$('logout').addEventListener('click', async () => {
  const r = await fetch('api/logout', { method: 'POST' }).catch(() => null);
  if (!r) { showError(() => t('err_offline')); return; }
  if (r.status === 409) { showError(() => t('logout_busy')); return; }
  S.conn.stop();
  S.convs.clear();
  S.tx.clear();
  S.selected = 0;
  renderAll();
  showLogin();
});

for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));
onLang(() => { resay(); forceTranscript(); if (S.me) { renderAll(); refreshOpenDialogs(true); } renderConn(); smsInfoSoon(); });

setInterval(tick, 1000);
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && S.selected) { S.unread.delete(S.selected); renderTaskRow(S.selected); }
});

async function boot() {
  await setLang(storedLang(), false);
  let me = null;
  try { me = await session(); } catch { /* offline */ }
  if (me?.logged_in) startDesk(); else showLogin();
}
boot();

// for tests and debugging only: read-only view of the state
window.textdesk = { S };
