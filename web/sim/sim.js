// The customer simulator: sends SMS through /api/sim/send and shows what
// the simulated handset received (/api/sim/inbox), polling once a second.
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
      add(m.text, false, `från ${m.from}`);
    }
  } catch (e) { /* server restarting: try again */ }
}

$('compose').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('text').value;
  const body = { from: $('from').value.trim(), to: $('to').value, text };
  const status = $('status');
  status.className = '';
  status.textContent = 'Skickar…';
  try {
    const r = await fetch('/api/sim/send', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(j.message || j.error);
    if (body.from !== state.number) resetThread(); // a new number: its own thread
    add(text, true, `till ${body.to}`);
    $('text').value = '';
    status.textContent = 'Skickat';
  } catch (e) {
    status.className = 'error';
    status.textContent = `Fel: ${e.message}`;
  }
});

$('text').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    $('compose').requestSubmit();
  }
});

await loadEntryPoints();
resetThread();
setInterval(poll, 1000);
poll();
