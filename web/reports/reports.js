// The reports page (/reports/): pick dates, an interval and a queue; shows
// charts (queue volume and service level, handle and response times, agent
// states as a timeline) drawn by Chart.js (Debian's libjs-chart.js, served
// at /vendor/chart.js/), the tables under them and a CSV download. Figures
// come from /api/reports/figures and /api/reports/states (docs/reports.md
// defines every one). Strings from reports/i18n/*.json.
import { t, setLang, storedLang, onLang, currentLang } from '/js/i18n.js';
import { bindLoginForm, startAgain } from '/js/login_form.js';
import { $, el, dur, keyboardScroll, say, resay } from '/js/util.js';

if (!location.pathname.endsWith('/')) location.replace(`${location.pathname}/${location.search}${location.hash}`);

const COLORS = {
  offered: '#0b5cd5', accepted: '#1e8e3e', abandoned: '#b26a00', sl: '#1d2329',
  handle: '#0b5cd5', accept: '#1e8e3e', reply: '#8e24aa',
  available: '#1e8e3e', idle: '#7a848d', rona: '#c5221f',
};
const S = { figures: null, totals: null, states: null, queues: [], charts: {} };

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

const isoDay = (d) => d.toISOString().slice(0, 10);
function nextDay(s) {
  const [y, m, d] = s.split('-').map(Number);
  return isoDay(new Date(Date.UTC(y, m - 1, d + 1)));
}

function query(step) {
  const q = new URLSearchParams({ from: $('f-from').value, to: nextDay($('f-to').value), step });
  if ($('f-queue').value) { q.set('dim', 'queue'); q.set('id', $('f-queue').value); }
  return q;
}

/* ---- numbers ------------------------------------------------------------- */

const fmtNum = (v) => (v == null ? '–' : new Intl.NumberFormat(currentLang() === 'en' ? 'en-GB' : 'sv-SE', { maximumFractionDigits: 1 }).format(v));
const fmtPct = (v) => (v == null ? '–' : `${fmtNum(v)} %`);
const fmtSecs = (v) => (v == null ? '–' : dur(v * 1000));
// the average score and how many answered: "4,3 (12)"; '–' when none
const fmtCsat = (r) => (r.csat_answers ? t('csat_cell', { avg: fmtNum(r.csat_avg), n: fmtNum(r.csat_answers) }) : '–');

function label(iso, multiDay, step) {
  const date = iso.slice(0, 10), time = iso.slice(11, 16);
  if (step === 'day') return date;
  return multiDay ? `${date.slice(5)} ${time}` : time;
}

/* ---- charts -------------------------------------------------------------- */

function chart(id, config, summary) {
  if (S.charts[id]) S.charts[id].destroy();
  const canvas = $(id);
  canvas.setAttribute('aria-label', summary);
  S.charts[id] = new window.Chart(canvas, config);
}

const axisTitle = (text) => ({ display: true, text, color: '#1d2329', font: { size: 12, weight: '600' } });
const baseOptions = () => ({
  responsive: true, maintainAspectRatio: false, animation: false,
  plugins: { legend: { position: 'bottom', labels: { color: '#1d2329', boxWidth: 14 } } },
});

function volumeChart(rows, step, multiDay) {
  const labels = rows.map((r) => label(r.interval_start, multiDay, step));
  const offered = rows.reduce((n, r) => n + r.offered, 0);
  const accepted = rows.reduce((n, r) => n + r.accepted, 0);
  chart('chart-volume', {
    data: {
      labels,
      datasets: [
        { type: 'bar', label: t('col_offered'), data: rows.map((r) => r.offered), backgroundColor: COLORS.offered, yAxisID: 'y' },
        { type: 'bar', label: t('col_accepted'), data: rows.map((r) => r.accepted), backgroundColor: COLORS.accepted, yAxisID: 'y' },
        { type: 'bar', label: t('col_abandoned'), data: rows.map((r) => r.abandoned + r.expired), backgroundColor: COLORS.abandoned, yAxisID: 'y' },
        { type: 'line', label: t('col_sl'), data: rows.map((r) => r.service_level_pct), borderColor: COLORS.sl, backgroundColor: COLORS.sl, yAxisID: 'y1', spanGaps: true, tension: 0 },
      ],
    },
    options: {
      ...baseOptions(),
      scales: {
        x: { title: axisTitle(t('axis_time')), ticks: { color: '#1d2329' } },
        y: { beginAtZero: true, title: axisTitle(t('axis_conversations')), ticks: { precision: 0, color: '#1d2329' } },
        y1: { position: 'right', min: 0, max: 100, title: axisTitle(t('axis_sl')), grid: { drawOnChartArea: false }, ticks: { color: '#1d2329', callback: (v) => `${v} %` } },
      },
    },
  }, t('volume_summary', { offered, accepted }));
}

function handleChart(rows, step, multiDay) {
  const labels = rows.map((r) => label(r.interval_start, multiDay, step));
  chart('chart-handle', {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: t('series_handle'), data: rows.map((r) => r.handle_avg_s), borderColor: COLORS.handle, backgroundColor: COLORS.handle, spanGaps: true },
        { label: t('series_accept'), data: rows.map((r) => r.accept_avg_s), borderColor: COLORS.accept, backgroundColor: COLORS.accept, spanGaps: true },
        { label: t('series_reply'), data: rows.map((r) => r.first_reply_avg_s), borderColor: COLORS.reply, backgroundColor: COLORS.reply, spanGaps: true, borderDash: [6, 4] },
      ],
    },
    options: {
      ...baseOptions(),
      scales: {
        x: { title: axisTitle(t('axis_time')), ticks: { color: '#1d2329' } },
        y: { beginAtZero: true, title: axisTitle(t('axis_seconds')), ticks: { color: '#1d2329' } },
      },
    },
  }, t('handle_summary'));
}

function offsetMs(iso) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(iso || '');
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
}

// Whole hours between ticks: 1 or 2 h on a day, whole days beyond.
function hourStep(range) {
  const h = (range.to_ms - range.from_ms) / 3600000;
  return (h <= 12 ? 1 : h <= 26 ? 2 : Math.ceil(h / 24 / 12) * 24) * 3600000;
}

function statesChart(st) {
  const off = offsetMs(st.range.from);
  const multiDay = st.range.to_ms - st.range.from_ms > 86400000 + 3600000;
  const names = [...new Set(st.states.map((s) => s.name))];
  const sets = ['available', 'idle', 'rona'].map((state) => ({
    label: t(`state_${state}`),
    data: st.states.filter((s) => s.state === state).map((s) => ({ x: [s.start_ms, s.end_ms], y: s.name, reason: s.idle_reason })),
    backgroundColor: COLORS[state],
    grouped: false,
    barPercentage: 0.7,
  }));
  const tick = (v) => {
    const iso = new Date(v + off).toISOString();
    return multiDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  };
  chart('chart-states', {
    type: 'bar',
    data: { labels: names, datasets: sets },
    options: {
      ...baseOptions(),
      indexAxis: 'y',
      scales: {
        x: { type: 'linear', min: st.range.from_ms, max: Math.min(st.range.to_ms, Math.max(st.range.from_ms + 3600000, ...st.states.map((s) => s.end_ms))), title: axisTitle(t('axis_time')), ticks: { callback: tick, color: '#1d2329', stepSize: hourStep(st.range), maxTicksLimit: 13 } },
        y: { title: axisTitle(t('col_agent')), ticks: { color: '#1d2329' } },
      },
      plugins: {
        ...baseOptions().plugins,
        tooltip: {
          callbacks: {
            label: (c) => {
              const [a, b] = c.raw.x;
              const why = c.raw.reason ? ` (${c.raw.reason})` : '';
              return `${c.dataset.label}${why}: ${tick(a)}–${tick(b)}, ${dur(b - a)}`;
            },
          },
        },
      },
    },
  }, t('states_summary', { agents: names.length, spans: st.states.length }));
}

/* ---- tables -------------------------------------------------------------- */

const td = (text, cls = 'num') => el('td', { class: cls, text });

function renderTables() {
  const rows = S.totals ? S.totals.rows : [];
  const queues = rows.filter((r) => r.dimension === 'queue');
  $('queue-body').replaceChildren(...queues.map((r) => el('tr', {},
    el('th', { scope: 'row', text: r.name }),
    td(fmtNum(r.offered)), td(fmtNum(r.accepted)), td(fmtNum(r.abandoned + r.expired)),
    td(r.service_level_pct == null ? '–' : t('sl_cell', { pct: fmtPct(r.service_level_pct), secs: fmtNum(r.service_level_threshold_s) })),
    td(`${fmtSecs(r.accept_avg_s)} / ${fmtSecs(r.accept_p90_s)}`),
    td(fmtSecs(r.first_reply_avg_s)), td(fmtSecs(r.handle_avg_s)),
    td(`${fmtNum(r.messages_in)} / ${fmtNum(r.messages_out)}`), td(fmtNum(r.sms_segments)), td(fmtNum(r.opt_outs)), td(fmtCsat(r)))));
  $('queues-empty').hidden = queues.length > 0;
  const agents = rows.filter((r) => r.dimension === 'agent');
  $('agent-body').replaceChildren(...agents.map((r) => el('tr', {},
    el('th', { scope: 'row', text: r.name }),
    td(fmtNum(r.accepted)), td(fmtNum(r.rona)), td(fmtSecs(r.handle_avg_s)),
    td(fmtSecs(r.available_s)), td(fmtSecs(r.idle_s)), td(fmtPct(r.occupancy_pct)), td(fmtCsat(r)),
    td((r.idle_by_reason || '').split('; ').filter(Boolean).map((p) => {
      const [name, secs] = p.split('=');
      return `${name} ${fmtSecs(Number(secs))}`;
    }).join(', ') || '–', 'reasons'))));
  $('agents-empty').hidden = agents.length > 0;
}

addEventListener('resize', () => keyboardScroll('section.card'));

function render() {
  if (!S.figures) return;
  const step = S.figures.range.step;
  const multiDay = S.figures.range.to_ms - S.figures.range.from_ms > 86400000 + 3600000;
  const dim = $('f-queue').value ? 'queue' : 'total';
  const rows = S.figures.rows.filter((r) => r.dimension === dim);
  volumeChart(rows, step, multiDay);
  handleChart(rows, step, multiDay);
  if (S.states) statesChart(S.states);
  renderTables();
  keyboardScroll('section.card'); // a table wider than a phone scrolls in its card
  const r = S.figures.range;
  $('range-note').textContent = t('range_note', { from: r.from.slice(0, 16).replace('T', ' '), to: r.to.slice(0, 16).replace('T', ' '), tz: r.time_zone });
}

/* ---- loading -------------------------------------------------------------- */

// What a refused request says, in the page's language, with what to do:
// err_CODE for each code of /api/reports/ (status 0: no connection); a
// general text naming a code this page does not know (err_unknown).
function errText(status, b) {
  const k = status === 0 ? 'err_network' : `err_${b.error}`;
  const s = t(k);
  return s === k ? t('err_unknown', { code: b.error || status }) : s;
}

// A period the server would refuse, said before asking: To before From,
// more than 400 days, 15-minute intervals over more than 31 days.
function periodError(step) {
  const from = Date.parse($('f-from').value), to = Date.parse($('f-to').value);
  if (Number.isNaN(from) || Number.isNaN(to)) return t('err_range_dates');
  if (to < from) return t('err_range_order');
  const days = (to - from) / 864e5 + 1;
  if (days > 400) return t('err_range_long');
  if (step === '15min' && days > 31) return t('err_range_15min');
  return '';
}

async function load() {
  say('report-error', () => '');
  const step = $('f-step').value;
  const bad = periodError(step);
  if (bad) { say('report-error', () => periodError(step) || ''); return; }
  const q = query(step);
  $('csv').href = `/api/reports/figures.csv?${query(step)}`;
  const all = query('all');
  all.delete('dim'); all.delete('id');
  const sq = new URLSearchParams({ from: q.get('from'), to: q.get('to') });
  const [f, tot, st] = await Promise.all([
    getJson(`/api/reports/figures?${q}`), getJson(`/api/reports/figures?${all}`), getJson(`/api/reports/states?${sq}`)]);
  if (f.status === 401 || f.status === 403) { showLogin(f.status === 403 ? t('not_supervisor') : ''); return; }
  if (f.status !== 200) { say('report-error', () => errText(f.status, f.body)); return; }
  S.figures = f.body;
  S.totals = tot.status === 200 ? tot.body : null;
  S.states = st.status === 200 ? st.body : null;
  render();
  $('app').dataset.loaded = String(Date.now());
}

/* ---- login, session, language -------------------------------------------- */

function showLogin(msg = '') {
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
  S.queues = r.body.queues;
  $('f-queue').replaceChildren(el('option', { value: '', text: t('all_queues') }),
    ...S.queues.map((qq) => el('option', { value: String(qq.id), text: qq.name })));
  const params = new URLSearchParams(location.search);
  const today = isoDay(new Date(r.body.now));
  $('f-from').value = params.get('from') || today;
  $('f-to').value = params.get('to') || $('f-from').value;
  if (params.get('step')) $('f-step').value = params.get('step');
  $('login').hidden = true;
  $('app').hidden = false;
  await load();
}

bindLoginForm(startApp);
$('filters').addEventListener('submit', (e) => { e.preventDefault(); load(); });
$('logout').addEventListener('click', async () => {
  await fetch('/api/logout', { method: 'POST' }).catch(() => {});
  showLogin();
});
for (const b of document.querySelectorAll('.lang-btn')) b.addEventListener('click', () => setLang(b.dataset.lang));
onLang(() => {
  resay();
  const opt = $('f-queue').querySelector('option[value=""]');
  if (opt) opt.textContent = t('all_queues');
  render();
});

(async () => {
  await setLang(storedLang(), false);
  await startApp();
})();
