// Views: header, task list, interaction pane (transcript, controls,
// composer), variables and the offer popover. They read S and write the
// DOM; event handlers live in app.js.
import { $, el, dur, clock, initials, focusable } from './util.js';
import { t, currentLang } from './i18n.js';
import { S, TASK_ROLES, OFFER_ROLES, title, lastMessage, agentName } from './state.js';

// Offers per page of the band: three side by side, one on a narrow screen.
const NARROW = matchMedia('(max-width: 899px)');
const offersPerPage = () => (NARROW.matches ? 1 : 3);
const STATUS_MARK = { queued: '◷', submitting: '◷', sent: '✓', delivered: '✓✓', failed: '!', unknown: '?' };

/* ---- header ---------------------------------------------------------- */

export function renderHeader() {
  const me = S.me;
  if (!me) return;
  $('agent-name').textContent = me.name;
  const sel = $('state-select');
  // rebuilt only when something it shows changed (an open menu stays open)
  const key = `${currentLang()}|${me.state}|${me.idle_reason}|${S.idleReasons.map((r) => r.name).join()}`;
  if (sel.dataset.key !== key) {
    sel.dataset.key = key;
    const opts = [el('option', { value: 'available', text: t('state_available') })];
    opts.push(el('option', { value: 'idle:0', text: t('state_idle') }));
    for (const r of S.idleReasons) opts.push(el('option', { value: `idle:${r.id}`, text: t('state_idle_reason', { reason: r.name }) }));
    if (me.state === 'rona') opts.push(el('option', { value: 'rona', text: t('state_rona'), disabled: true }));
    sel.replaceChildren(...opts);
  }
  // a choice made with the arrow keys waits for Enter (app.js): keep it shown
  if (!sel.dataset.pending) sel.value = stateValue(me);
  $('state-dot').className = `dot state-${me.state}`;
  sel.className = `state-${me.state}`;
  $('banner-rona').hidden = me.state !== 'rona';
  $('rona-text').textContent = t('rona_text');
}

export function stateValue(me) {
  return me.state === 'available' ? 'available' : me.state === 'rona' ? 'rona' : `idle:${me.idle_reason || 0}`;
}

export function renderConn() {
  const c = $('conn');
  c.textContent = S.online ? t('conn_online') : t('conn_reconnecting');
  c.className = `conn ${S.online ? 'online' : 'offline'}`;
  $('conn-dot').className = `conn-dot ${S.online ? 'online' : 'offline'}`;
  const b = $('banner-conn');
  b.hidden = S.online;
  b.textContent = S.online ? '' : t('conn_lost');
  document.body.classList.toggle('offline', !S.online);
  updateComposerState();
}

/* ---- task list ------------------------------------------------------- */

const rows = new Map(); // id -> li

export function tasks() {
  return [...S.convs.values()].filter((c) => TASK_ROLES.has(c.role)).sort((a, b) => a.opened_at - b.opened_at || a.id - b.id);
}

function waitingSince(c) {
  if (c.role !== 'owner' && c.role !== 'guest') return 0;
  const m = lastMessage(c.id);
  return m && m.dir === 'in' ? m.at : 0;
}

function fillRow(li, c) {
  const m = lastMessage(c.id);
  const unread = S.unread.get(c.id) || 0;
  const since = waitingSince(c);
  const kids = [
    el('div', { class: 'row1' },
      el('span', { class: 'task-title', text: title(c) }),
      unread ? el('span', { class: 'badge', text: String(unread), 'aria-label': t('unread', { n: unread }) }) : null),
    el('div', { class: 'preview', text: m ? m.text : '' }),
    el('div', { class: 'row3' },
      el('span', { class: 'tag', text: c.role === 'wrapup' ? t('role_wrapup') : c.role === 'guest' ? t('role_guest') : c.outbound ? t('outbound_tag') : c.queue_name }),
      since
        ? el('span', { class: 'timer waiting', dataset: { since: String(since), fmt: 'waiting' }, text: t('waiting', { time: dur(Date.now() - since) }) })
        : el('span', { class: 'timer', dataset: { since: String(c.opened_at), fmt: 'open_for' }, text: t('open_for', { time: dur(Date.now() - c.opened_at) }) })),
  ];
  li.replaceChildren(...kids);
  const sel = c.id === S.selected;
  li.setAttribute('aria-selected', String(sel));
  li.tabIndex = sel ? 0 : -1;
  li.classList.toggle('unread', unread > 0);
  li.classList.toggle('terminated', c.state === 'terminated');
  li.classList.toggle('wrapup', c.role === 'wrapup');
}

export function renderTasks() {
  const list = tasks();
  const ul = $('task-list');
  const seen = new Set();
  let prev = null;
  for (const c of list) {
    let li = rows.get(c.id);
    if (!li) {
      li = el('li', { class: 'task', role: 'option', id: `task-${c.id}`, dataset: { conv: String(c.id) } });
      rows.set(c.id, li);
    }
    fillRow(li, c);
    seen.add(c.id);
    const want = prev ? prev.nextSibling : ul.firstChild;
    if (want !== li) ul.insertBefore(li, want);
    prev = li;
  }
  for (const [id, li] of rows) if (!seen.has(id)) { li.remove(); rows.delete(id); }
  if (!list.some((c) => c.id === S.selected) && list.length && ul.firstChild) ul.firstChild.tabIndex = 0;
  $('tasks-empty').hidden = list.length > 0;
  ul.hidden = list.length === 0; // no empty listbox
}

export function renderTaskRow(id) {
  const li = rows.get(id);
  const c = S.convs.get(id);
  if (li && c) fillRow(li, c);
}

/* ---- interaction pane ------------------------------------------------ */

let shown = { conv: 0, version: -1, lang: '' };

function sysText(it) {
  const v = { agent: it.agent_name || '', target: it.target_name || '', queue: it.queue_name || '', supervisor: it.supervisor || '' };
  if (it.event === 'queued') {
    const key = `sys_queued_${it.why}`;
    const s = t(key, v);
    return s === key ? t('sys_queued', v) : s;
  }
  if (it.event === 'transferred' && it.target_name) return t('sys_transferred_to', v);
  if (it.event === 'transferred' && it.queue_name) return t('sys_transferred_queue', v);
  return t(`sys_${it.event}`, v);
}

// who wrote an internal note: a supervisor or an agent
const noteAuthor = (it) => (it.supervisor ? t('by_supervisor', { name: it.supervisor }) : S.me && it.agent === S.me.id ? t('you') : agentName(it.agent, it.agent_name));

function bubble(it, c) {
  if (it.kind === 'sys' && it.event === 'note') {
    // an internal note: agents and supervisors only, never sent to the customer
    return el('li', { class: 'whisper' },
      el('div', { class: 'bubble bubble-note' },
        el('p', { class: 'note-head' }, el('strong', { text: t('note_label') }), ` · ${noteAuthor(it)} · `, el('span', { class: 'note-private', text: t('note_private') })),
        el('p', { class: 'text', text: it.text || '' }),
        el('div', { class: 'meta' }, el('time', { class: 'at', text: clock(it.at, currentLang()) }))));
  }
  if (it.kind === 'sys') {
    return el('li', { class: `sys sys-${it.event}` },
      el('span', { text: sysText(it) }), ' ', el('time', { class: 'at', text: clock(it.at, currentLang()) }));
  }
  const at = el('time', { class: 'at', dateTime: new Date(it.at).toISOString(), text: clock(it.at, currentLang()) });
  if (it.dir === 'in') {
    return el('li', { class: 'msg msg-in', dataset: { seq: String(it.seq) } },
      el('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(c.name, c.number) }),
      el('div', { class: 'bubble bubble-customer' },
        el('span', { class: 'visually-hidden', text: `${title(c)}: ` }),
        el('p', { class: 'text', text: it.text }),
        el('div', { class: 'meta' }, at)));
  }
  const mine = S.me && it.agent === S.me.id;
  return el('li', { class: 'msg msg-out', dataset: { seq: String(it.seq) } },
    el('div', { class: 'bubble bubble-agent' },
      el('span', { class: mine ? 'who visually-hidden' : 'who', text: `${mine ? t('you') : it.agent ? agentName(it.agent, it.agent_name) : it.supervisor ? t('by_supervisor', { name: it.supervisor }) : t('auto_reply')}: ` }),
      el('p', { class: 'text', text: it.text }),
      el('div', { class: 'meta' }, at, ' ', statusEl(it)),
      deliveryNote(it)));
}

function statusEl(it) {
  const st = it.status || 'queued';
  const doubt = st === 'failed' || st === 'unknown';
  return el('span', {
    class: `status status-${st}`, title: t(`status_${st}`),
  }, el('span', { 'aria-hidden': 'true', text: STATUS_MARK[st] || '' }),
  el('span', { class: doubt ? 'status-word' : 'visually-hidden', text: t(`status_${st}`) }));
}

// A failed or doubtful delivery: what it means and what to do, in the
// agent's words; the gateway's own text (often the receiver's raw words, in
// English or a code) stays available behind "Details", never in their place.
function deliveryNote(it) {
  const st = it.status;
  if (st !== 'failed' && st !== 'unknown') return null;
  return el('div', { class: 'delivery-note' },
    el('p', { class: 'delivery-why', text: t(`delivery_${st}`) }),
    // one click sends the same text again as a new message (never automatic)
    el('button', { type: 'button', class: 'resend', dataset: { seq: String(it.seq) }, text: t('resend') }),
    it.error ? el('details', { class: 'delivery-detail' },
      el('summary', { text: t('delivery_details') }),
      el('p', { class: 'delivery-raw', text: it.error })) : null);
}

export function updateDelivery(conv, seq) {
  if (shown.conv !== conv) return;
  const li = liBySeq.get(seq);
  const it = S.tx.get(conv)?.bySeq?.get(seq);
  if (!li || !it) return;
  const old = li.querySelector('.status');
  if (old) old.replaceWith(statusEl(it));
  li.querySelector('.delivery-note')?.remove();
  const note = deliveryNote(it);
  if (note) li.querySelector('.bubble').append(note);
}

function nearBottom(box) {
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

// The transcript is cut in parts of PART items (an <ol> each, in the
// #transcript region): item i is in part floor(i / PART). A part off
// screen is skipped whole (content-visibility: auto, reserved at its last
// height, or about ITEM_PX an item before it was ever shown), so the
// browser lays out, hit-tests and watches (the intersection checks that
// decide what is skipped run every frame) a few dozen parts and the
// bubbles of the parts in view, not every bubble: a new message, a
// delivery report and a scrolled frame cost the same in a 2,000-message
// conversation as in a short one (e2e_desktop_states prints the ratios).
const PART = 100;
const ITEM_PX = 60;
let parts = [];
const liBySeq = new Map(); // the shown conversation's message bubbles

function partOf(box, k) {
  let p = parts[k];
  if (!p) {
    p = el('ol', { class: 'tx-part' });
    p.n = 0;
    const later = parts.find((x, j) => x && j > k);
    if (later) box.insertBefore(p, later);
    else box.append(p);
    parts[k] = p;
  }
  return p;
}

// item i of the shown conversation into its part, first or last in it
function place(box, i, it, c, first) {
  const b = bubble(it, c);
  if (it.kind === 'msg') liBySeq.set(it.seq, b);
  const p = partOf(box, Math.floor(i / PART));
  if (first) p.prepend(b);
  else p.append(b);
  p.n++;
  p.style.containIntrinsicBlockSize = `auto ${p.n * ITEM_PX}px`;
}

// Appends one new item to the visible transcript (no full re-render, no
// jump: it scrolls only when the agent was already at the bottom). Whether
// it was is read once before the first append of a frame, while the layout
// is still clean, and the scroll happens in that frame's
// requestAnimationFrame: no layout is forced in between, however many
// messages come in one turn.
let stick = null;

export function appendItem(conv, it) {
  const tx = S.tx.get(conv);
  // a transcript read anew (loadTx) and not shown yet: its render is due
  // and shows this item too (before, taking its version here skipped it)
  if (shown.conv !== conv || !tx || tx.version !== shown.version) return;
  const box = $('transcript');
  if (stick === null) {
    stick = nearBottom(box);
    requestAnimationFrame(() => {
      if (stick) box.scrollTop = box.scrollHeight;
      stick = null;
    });
  }
  place(box, tx.items.length - 1, it, S.convs.get(conv), false);
}

// Long transcripts render the newest FIRST_CHUNK items at once (what the
// agent sees) and prepend older ones in chunks, one per frame, keeping the
// view still, so opening a 2,000-message conversation never blocks.
const FIRST_CHUNK = 120;
const CHUNK = 150;
let renderToken = 0;

function renderTranscript(c) {
  const tx = S.tx.get(c.id) || { items: [], version: 0 };
  if (shown.conv === c.id && shown.version === tx.version && shown.lang === currentLang()) return;
  const box = $('transcript');
  const keep = shown.conv === c.id && !nearBottom(box) ? box.scrollTop : null;
  const items = tx.items;
  let next = keep === null ? Math.max(0, items.length - FIRST_CHUNK) : 0;
  box.replaceChildren();
  parts = [];
  liBySeq.clear();
  for (let i = next; i < items.length; i++) place(box, i, items[i], c, false);
  box.scrollTop = keep ?? box.scrollHeight;
  box.setAttribute('aria-busy', String(next > 0));
  shown = { conv: c.id, version: tx.version, lang: currentLang() };
  const token = ++renderToken;
  const step = () => {
    if (token !== renderToken) return;
    if (next <= 0) { box.setAttribute('aria-busy', 'false'); return; }
    const from = Math.max(0, next - CHUNK);
    const h = box.scrollHeight;
    const top = box.scrollTop;
    for (let i = next - 1; i >= from; i--) place(box, i, items[i], c, true);
    box.scrollTop = top + (box.scrollHeight - h);
    next = from;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

export function forceTranscript() { shown = { conv: 0, version: -1, lang: '' }; renderToken++; }

function show(id, on) { $(id).hidden = !on; }

export function renderPane() {
  const c = S.convs.get(S.selected);
  const has = !!c && TASK_ROLES.has(c.role);
  $('pane-empty').hidden = has;
  $('pane-body').hidden = !has;
  if (!has) {
    forceTranscript();
    renderVars(null);
    return;
  }
  $('pane-title').textContent = title(c);
  $('pane-sub').textContent = c.outbound ? t('via_outbound', { ep: c.ep_number }) : t('via', { queue: c.queue_name, ep: c.ep_number });

  const owner = c.role === 'owner';
  const term = c.state === 'terminated';
  const conf = c.conference;
  const cs = $('conf-status');
  cs.textContent = conf === 'requested' ? t('conference_requested') : conf === 'active' ? t('conference_active') : '';
  cs.className = `conf-status conf-${conf}`;
  cs.hidden = conf === 'none' || term || c.role === 'wrapup';
  show('btn-transfer', owner && !term);
  show('btn-conference', owner && !term && conf === 'none');
  show('btn-cancel-conf', owner && !term && conf === 'requested');
  $('btn-transfer').disabled = conf !== 'none';
  show('btn-exit-conf', c.role === 'guest');
  show('btn-end', owner);
  $('btn-end').textContent = owner && conf === 'active' && !term ? t('end_conference') : t('end');
  show('btn-wrapup', c.role === 'wrapup');

  const w = $('pane-warning');
  w.hidden = !term && !c.opted_out;
  w.textContent = term ? t('terminated_warning') : c.opted_out ? t('opted_out_warning') : '';
  const wi = $('pane-wrapup');
  wi.hidden = c.role !== 'wrapup';
  if (c.role === 'wrapup') {
    const kids = [el('span', { text: wrapupText(c) })];
    if (c.wrapup_deadline) kids.push(el('span', { class: 'countdown timer', dataset: { until: String(c.wrapup_deadline), fmt: 'auto_wrapup' }, text: ` ${t('auto_wrapup', { time: dur(c.wrapup_deadline - Date.now()) })}` }));
    wi.replaceChildren(...kids);
  }
  renderTranscript(c);
  const ta = $('composer-text');
  if (ta.dataset.conv !== String(c.id)) {
    ta.value = S.drafts.get(c.id) || '';
    ta.dataset.conv = String(c.id);
    ta.dispatchEvent(new Event('draftloaded'));
  }
  ta.placeholder = t('composer_placeholder', { number: c.number });
  updateComposerState();
  renderVars(c);
}

// Why a wrap-up is due, as it really is: a conference guest who left is
// told the conversation goes on for the owner and the customer; a guest
// whose owner ended it is told who did.
export function wrapupText(c) {
  const owner = c.owner_name || S.guestOf.get(c.id) || '';
  if (c.state === 'assigned' && owner && c.owner !== S.me?.id) return t('wrapup_due_left', { owner });
  if (S.guestOf.has(c.id) && owner) return t('wrapup_due_guest_ended', { owner });
  return t('wrapup_due');
}

export function canWrite(c) {
  return !!c && (c.role === 'owner' || c.role === 'guest') && c.state === 'assigned' && !c.opted_out;
}

export function updateComposerState() {
  const c = S.convs.get(S.selected);
  const ta = $('composer-text');
  const writable = canWrite(c);
  const had = document.activeElement === ta;
  ta.disabled = !writable;
  // typing in a composer that closes (resource removed, ended): the focus
  // goes to what is left to do, not to the page
  if (had && !writable) [...document.querySelectorAll('#pane-body .controls button')].find(focusable)?.focus();
  $('composer').classList.toggle('disabled', !writable);
  $('composer-send').disabled = !writable || !S.online || !ta.value.trim();
  // an internal note: while a colleague or a supervisor is in it with us
  const noteOk = writable && !!c && (c.conference === 'active' || !!c.supervisor);
  $('composer-note-row').hidden = !noteOk;
  if (!noteOk) $('composer-note').checked = false;
  $('composer-send').textContent = noteOk && $('composer-note').checked ? t('note_send') : t('send');
}

/* ---- history --------------------------------------------------------- */

// The customer's earlier conversations (S.history, fetched on select).
export function renderHistory() {
  const ol = $('hist');
  const h = S.selected ? S.history.get(S.selected) : null;
  $('hist-empty').hidden = !!(h && h.length);
  $('hist-empty').textContent = S.selected ? (h ? t('history_empty') : '') : t('history_unavailable');
  if (!h) { ol.replaceChildren(); return; }
  ol.replaceChildren(...h.map((x) => {
    const reasons = x.wrapups.map((w) => `${w.reason_name || t('history_no_reason')} (${w.agent_name})`).join(', ');
    const date = new Date(x.opened_at).toLocaleString(currentLang() === 'sv' ? 'sv-SE' : 'en-GB',
      { dateStyle: 'short', timeStyle: 'short' });
    return el('li', { class: 'hist-item', dataset: { conv: String(x.conv) } },
      el('span', { class: 'hist-date', text: date }),
      el('span', { class: 'hist-reasons', text: x.closed_at ? (reasons || t('history_no_reason')) : t('history_open') }),
      // the customer's satisfaction answer, when they gave one
      x.csat ? el('span', { class: 'hist-csat', text: x.csat.comment ? t('history_csat_comment', { score: x.csat.score, comment: x.csat.comment }) : t('history_csat', { score: x.csat.score }) }) : null);
  }));
}

/* ---- variables ------------------------------------------------------- */

function renderVars(c) {
  const dl = $('vars');
  $('vars-empty').hidden = !!c;
  if (!c) { dl.replaceChildren(); return; }
  const kids = [];
  for (const [k, v] of Object.entries(c.variables || {})) {
    const label = k === 'customer_number' ? t('var_customer_number') : k === 'entry_point' ? t('var_entry_point') : k;
    kids.push(el('dt', { text: label }), el('dd', { text: String(v) }));
  }
  dl.replaceChildren(...kids);
}

/* ---- offers ---------------------------------------------------------- */

export function offers() {
  return [...S.convs.values()].filter((c) => OFFER_ROLES.has(c.role))
    .sort((a, b) => (S.offerSeen.get(a.id) || 0) - (S.offerSeen.get(b.id) || 0) || a.id - b.id);
}

export function renderOffers() {
  const all = offers();
  const box = $('offers');
  box.hidden = all.length === 0;
  document.title = all.length ? `(${all.length}) textdesk` : 'textdesk';
  if (!all.length) { $('offer-list').replaceChildren(); S.offerPage = 0; return; }
  const per = offersPerPage();
  const pages = Math.ceil(all.length / per);
  S.offerPage = Math.min(S.offerPage, pages - 1);
  const from = S.offerPage * per;
  const page = all.slice(from, from + per);
  $('offers-range').textContent = t('offers_range', { from: from + 1, to: from + page.length, n: all.length });
  $('offers-prev').hidden = pages < 2;
  $('offers-next').hidden = pages < 2;
  $('offers-prev').disabled = S.offerPage === 0;
  $('offers-next').disabled = S.offerPage >= pages - 1;
  $('offers-accept-all').hidden = all.length < 2;
  const focused = document.activeElement?.closest?.('.offer')?.dataset.conv;
  const lis = page.map((c) => {
    const seen = S.offerSeen.get(c.id) || Date.now();
    const head = c.role === 'invited' ? t('offer_invite', { agent: c.owner_name })
      : c.offer_kind === 'transfer' ? (c.from_agent_name ? t('offer_transfer', { agent: c.from_agent_name }) : t('offer_transfer_plain'))
        : t('offer_route');
    const m = lastMessage(c.id);
    return el('li', { class: `offer offer-${c.role}`, dataset: { conv: String(c.id) }, 'aria-labelledby': `offer-h-${c.id}` },
      el('h3', { id: `offer-h-${c.id}`, text: head }),
      el('dl', {},
        el('dt', { text: t('queue_label') }), el('dd', { class: 'offer-queue', text: c.queue_name }),
        el('dt', { text: t('from_label') }), el('dd', { class: 'offer-number', text: c.number }),
        el('dt', { text: t('to_label') }), el('dd', { class: 'offer-ep', text: c.ep_number })),
      el('p', { class: 'offer-time' }, el('span', { class: 'visually-hidden', text: `${t('timer_label')}: ` }),
        el('span', { class: 'offer-timer timer', dataset: { since: String(seen), fmt: '' }, text: dur(Date.now() - seen) })),
      m ? el('p', { class: 'offer-preview', text: m.text }) : null,
      el('div', { class: 'offer-buttons' },
        el('button', { type: 'button', class: 'decline', dataset: { act: 'decline' }, text: t('decline') }),
        el('button', { type: 'button', class: 'primary accept', dataset: { act: 'accept' }, text: t('accept'), 'aria-keyshortcuts': c.id === all[0].id ? 'Alt+A' : null })));
  });
  $('offer-list').replaceChildren(...lis);
  if (focused) $('offer-list').querySelector(`.offer[data-conv="${focused}"] .accept`)?.focus();
}

/* ---- timers ---------------------------------------------------------- */

// One tick a second updates every live timer in place (text only: no
// layout change; the timer cells have a fixed width).
export function tick() {
  const now = Date.now();
  for (const e of document.querySelectorAll('.timer[data-since]')) {
    const d = dur(now - Number(e.dataset.since));
    e.textContent = e.dataset.fmt ? t(e.dataset.fmt, { time: d }) : d;
  }
  for (const e of document.querySelectorAll('.timer[data-until]')) {
    const d = dur(Number(e.dataset.until) - now);
    e.textContent = ` ${t(e.dataset.fmt, { time: d })}`;
  }
}
