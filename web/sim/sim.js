// The customer simulator: sends SMS through /api/sim/send and shows what
// the simulated handset received (/api/sim/inbox), polling once a second.
// It plays the customer, so the business numbers are shown as they are
// (never masked); errors read in the page's language (sim/i18n).
import { t, setLang, storedLang, onLang } from '/js/i18n.js';

const $ = (id) => document.getElementById(id);
const state = { received: 0, number: null, sent: [] };

function add(text, mine, note) {
  const li = document.createElement('li');
  li.className = mine ? 'me' : 'them';
  li.textContent = text;
  const small = document.createElement('small');
  small.textContent = note;
  li.append(small);
  $('thread').append(li);
  $('phone').scrollTop = $('phone').scrollHeight;
}

async function loadEntryPoints() {
  const r = await fetch('/api/sim/entry_points');
  const j = await r.json();
  const sel = $('to');
  sel.replaceChildren();
  for (const ep of j.entry_points || []) {
    const o = document.createElement('option');
    o.value = ep.number;
    o.textContent = ep.number;
    sel.append(o);
  }
}

function resetThread() {
  state.received = 0;
  state.number = $('from').value.trim();
  $('thread').replaceChildren();
}

async function poll() {
  const number = $('from').value.trim();
  if (number !== state.number) resetThread();
  if (!number) return;
  try {
    const r = await fetch(`/api/sim/inbox?number=${encodeURIComponent(number)}&after=${state.received}`);
    if (!r.ok) return;
    const j = await r.json();
    for (const m of j.messages) {
      state.received = m.n;
      add(m.text, false, t('sim_from_note', { number: m.from }));
    }
  } catch (e) { /* server restarting: try again */ }
}

// The server's error code in the page's words (never its English message).
function errorText(status, code, body) {
  const k = `sim_err_${code}`;
  const s = t(k, { number: body.to, status });
  return s === k ? t('sim_err_other', { status }) : s;
}

$('compose').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  const body = { from: $('from').value.trim(), to: $('to').value, text };
  const status = $('status');
  status.className = '';
  status.textContent = t('sim_sending');
  let r;
  let j = {};
  try {
    r = await fetch('/api/sim/send', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    try { j = await r.json(); } catch { /* no body */ }
  } catch {
    status.className = 'error';
    status.textContent = t('sim_err_offline');
    return;
  }
  if (!r.ok) {
    status.className = 'error';
    status.textContent = errorText(r.status, j.error, body);
    return;
  }
  if (body.from !== state.number) resetThread(); // a new number: its own thread
  add(text, true, t('sim_to_note', { number: body.to }));
  $('text').value = '';
  status.textContent = t('sim_sent');
});

$('text').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    $('compose').requestSubmit();
  }
});
for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));

onLang(() => { document.title = t('sim_title'); });
await setLang(storedLang(), false);
await loadEntryPoints();
resetThread();
setInterval(poll, 1000);
poll();
