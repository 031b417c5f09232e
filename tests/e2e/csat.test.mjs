// Customer satisfaction by SMS (issue 17) through a REAL Kannel 1.4.5
// (tests/peers/kannel/): after Anna wraps up, the handset receives the
// entry point's survey (the Swedish template); "4 bra hjälp" is recorded
// against the ended conversation without opening a new one, shows in the
// scores endpoint and in the interaction history; "STOP" to the next survey
// still opts out (and no survey goes to an opted-out customer); an answer
// after the window opens a conversation as usual.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './lib/server.mjs';
import { startKannelSite, stopGatewaySite } from './lib/gateway_site.mjs';
import { login, until } from './lib/client.mjs';
import { Kannel, kannelMissing } from '../peers/kannel/harness.mjs';

const CUSTOMER = '+46701234567';
const LATE = '+46709876543';
const EP = '71000';
const TOKEN = 'kannel-csat-token';
const SURVEY = 'Hur nöjd är du med hjälpen du fick? Svara med en siffra 1-5 (5 = mycket nöjd). '
  + 'Skriv gärna en kommentar efter siffran.';
const WINDOW_S = 6;
const missing = kannelMissing();
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-csat-e2e-'));
let kannel;
let server;
let anna;

before(async () => {
  if (missing) return;
  ({ kannel, server, anna } = await startKannelSite(dir, {
    Kannel, freePort, token: TOKEN, ep: EP,
    epExtra: { survey: { language: 'sv', window_s: WINDOW_S } },
    extra: { wrapup_reasons: [{ id: 1, name: 'Löst' }], supervisors: [{ username: 'lena', password: 'pw-lena' }] },
  }));
});

after(async () => {
  await stopGatewaySite({ server, anna });
  if (kannel) { await kannel.stop(); kannel.cleanup(); }
  rmSync(dir, { recursive: true, force: true });
});

const surveysTo = (number) => kannel.mtMessages().filter((m) => m.to === number && m.text === SURVEY);

// The customer writes; Anna accepts, replies, ends and wraps up.
async function handle(number, text) {
  await kannel.injectMo(number, EP, text);
  const offer = await anna.offer(10000);
  assert.equal(offer.number, number);
  await anna.cmd('accept', { conv: offer.id });
  await anna.reply(offer.id, 'Det är ordnat!');
  assert.equal((await anna.cmd('end', { conv: offer.id })).ok, true);
  assert.equal((await anna.cmd('wrapup', { conv: offer.id, reason: 1 })).ok, true);
  return offer.id;
}

async function scores() {
  const sup = await login(server.url, 'lena', 'pw-lena');
  const r = await fetch(`${server.url}/api/supervisor/csat`, { headers: { cookie: sup.cookie } });
  assert.equal(r.status, 200);
  return r.json();
}

test('the survey goes out after wrap-up and "4" is recorded against the ended conversation', { skip: missing || false }, async () => {
  const conv = await handle(CUSTOMER, 'Hej, min faktura är fel');
  await until(() => surveysTo(CUSTOMER).length === 1, 10000);
  await kannel.injectMo(CUSTOMER, EP, '4 bra hjälp');
  // recorded, and nothing was offered
  const s = await until(async () => { const x = await scores(); return x.total.answers === 1 && x; }, 10000);
  assert.equal(s.total.average, 4);
  assert.deepEqual(s.total.scores, [0, 0, 0, 1, 0]);
  assert.equal(s.agents[0].name, 'Anna Berg');
  assert.equal(s.queues[0].name, 'Kundtjänst');
  assert.equal(s.teams[0].name, 'Support');
  assert.equal(s.intervals.length, 1);
  // the reports carry the score per agent and team (REST and CSV)
  const sup = await login(server.url, 'lena', 'pw-lena');
  const fig = await fetch(`${server.url}/api/reports/figures?step=all&dim=agent`, { headers: { cookie: sup.cookie } }).then((r) => r.json());
  const annaRow = fig.rows.find((x) => x.name === 'Anna Berg');
  assert.equal(annaRow.csat_asked, 1);
  assert.equal(annaRow.csat_answers, 1);
  assert.equal(annaRow.csat_avg, 4);
  assert.equal(annaRow.csat_by_score, '4=1');
  const csv = await fetch(`${server.url}/api/reports/figures.csv?step=all&dim=team`, { headers: { cookie: sup.cookie } }).then((r) => r.text());
  const [head, first] = csv.split('\r\n');
  const cols = head.split(',');
  const cells = first.split(',');
  assert.equal(cells[cols.indexOf('name')], 'Support');
  assert.equal(cells[cols.indexOf('csat_answers')], '1');
  assert.equal(cells[cols.indexOf('csat_avg')], '4.0');
  await new Promise((r) => setTimeout(r, 1000));
  const ov = await fetch(`${server.url}/api/supervisor/overview`, { headers: { cookie: sup.cookie } }).then((r) => r.json());
  assert.deepEqual(ov.conversations, []); // the answer opened nothing
  const bad = await fetch(`${server.url}/api/supervisor/csat?interval=week`, { headers: { cookie: (await login(server.url, 'lena', 'pw-lena')).cookie } });
  assert.equal(bad.status, 400);
  assert.equal((await fetch(`${server.url}/api/supervisor/csat`)).status, 401);
  assert.ok(conv);
});

test('"STOP" to a survey still opts out; the history shows the earlier score', { skip: missing || false }, async () => {
  await handle(CUSTOMER, 'Hej igen');
  await until(() => surveysTo(CUSTOMER).length === 2, 10000);
  await kannel.injectMo(CUSTOMER, EP, 'STOP');
  const offer = await anna.offer(10000); // a keyword is a message, as before
  assert.equal(offer.number, CUSTOMER);
  const conv = await anna.conv(offer.id, (c) => c.opted_out === true).catch(() => offer);
  assert.equal(conv.opted_out, true);
  await anna.cmd('accept', { conv: offer.id });
  // the interaction history carries the score and the comment
  const h = await fetch(`${server.url}/api/history?conv=${offer.id}`, { headers: { cookie: anna.cookie } }).then((r) => r.json());
  const rated = h.history.filter((x) => x.csat);
  assert.equal(rated.length, 1);
  assert.equal(rated[0].csat.score, 4);
  assert.equal(rated[0].csat.comment, 'bra hjälp');
  // an opted-out customer gets no survey
  await anna.cmd('end', { conv: offer.id });
  await anna.cmd('wrapup', { conv: offer.id, reason: 1 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(surveysTo(CUSTOMER).length, 2);
  assert.equal((await scores()).total.answers, 1);
});

test('an answer after the window opens a conversation as usual', { skip: missing || false }, async () => {
  await handle(LATE, 'Hej');
  await until(() => surveysTo(LATE).length === 1, 10000);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000 + 500));
  await kannel.injectMo(LATE, EP, '5');
  const offer = await anna.offer(10000);
  assert.equal(offer.number, LATE);
  assert.equal((await scores()).total.answers, 1);
  await anna.cmd('accept', { conv: offer.id });
});
