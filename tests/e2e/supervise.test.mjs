// A supervisor steps in (issue 15), through a REAL Kannel 1.4.5
// (tests/peers/kannel/): internal notes by the supervisor and by the agent
// reach the agent's desk and the stored transcript and never the handset;
// barge (the supervisor's SMS reaches the handset), take-over (the agent is
// released with a system note and owes no wrap-up), the supervisor ends it;
// and every refusal with its code.
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
const EP = '71000';
const TOKEN = 'kannel-sup-token';
const missing = kannelMissing();
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-sup-e2e-'));
let kannel;
let server;
let anna;

before(async () => {
  if (missing) return;
  ({ kannel, server, anna } = await startKannelSite(dir, {
    Kannel, freePort, token: TOKEN, ep: EP,
    extra: { wrapup_reasons: [{ id: 1, name: 'Löst' }], supervisors: [{ username: 'lena', password: 'pw-lena' }] },
  }));
});

after(async () => {
  await stopGatewaySite({ server, anna });
  if (kannel) { await kannel.stop(); kannel.cleanup(); }
  rmSync(dir, { recursive: true, force: true });
});

const toHandset = () => kannel.mtMessages().filter((m) => m.to === CUSTOMER).map((m) => m.text);

test('whisper, barge and take-over: notes never reach the handset', { skip: missing || false }, async () => {
  await kannel.injectMo(CUSTOMER, EP, 'Hej, min faktura är fel');
  const offer = await anna.offer(10000);
  await anna.cmd('accept', { conv: offer.id });
  await anna.reply(offer.id, 'Hej! Jag tittar på det.');
  await until(() => toHandset().length === 1, 10000);

  const sup = await login(server.url, 'lena', 'pw-lena');
  const post = async (action, body, cookie = sup.cookie, id = offer.id) => {
    const r = await fetch(`${server.url}/api/supervisor/conversations/${id}/${action}`, {
      method: 'POST', headers: { cookie, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };

  // the supervisor whispers: Anna's desk shows it with who wrote it
  let r = await post('note', { text: 'VIP-kund: var extra noggrann' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const note = await anna.wait((e) => e.type === 'system' && e.event === 'note');
  assert.equal(note.text, 'VIP-kund: var extra noggrann');
  assert.equal(note.supervisor, 'lena');
  // alone with the customer, Anna has nobody to whisper to
  r = await anna.cmd('note', { conv: offer.id, text: 'hej' });
  assert.equal(r.error, 'no_conference');

  // barge: Anna is told; both may now note; the supervisor's SMS goes out
  assert.equal((await post('barge')).status, 200);
  const joined = await anna.wait((e) => e.type === 'system' && e.event === 'supervisor_joined');
  assert.equal(joined.supervisor, 'lena');
  const c = await anna.wait((e) => e.type === 'conversation' && e.conversation.supervisor === 'lena');
  assert.equal(c.conversation.owner_name, 'Anna Berg');
  r = await anna.cmd('note', { conv: offer.id, text: 'Kunden verkar upprörd' });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal((await post('send', { text: 'Hej, jag heter Lena och är chef här.' })).status, 200);
  await until(() => toHandset().length === 2, 10000);
  assert.equal(toHandset()[1], 'Hej, jag heter Lena och är chef här.');

  // refusals: codes and nothing changed
  assert.equal((await post('note', { text: '' })).body.error, 'text_empty');
  assert.equal((await post('note', { words: 'x' })).status, 400);
  assert.equal((await post('fly')).status, 404);
  assert.equal((await post('barge', undefined, sup.cookie, 999)).status, 404);
  assert.equal((await post('end')).body.error, 'not_owner'); // Anna ends a joined one
  const annaLogin = await login(server.url, 'anna', 'pw-anna');
  assert.equal((await post('barge', undefined, annaLogin.cookie)).status, 403);
  assert.equal((await post('barge', undefined, '')).status, 401);

  // the stored transcript: both notes, the joining, the supervisor's reply
  const tx = await fetch(`${server.url}/api/supervisor/conversations/${offer.id}`, { headers: { cookie: sup.cookie } }).then((x) => x.json());
  const notes = tx.messages.filter((m) => m.event === 'note');
  assert.deepEqual(notes.map((m) => [m.text, m.supervisor || m.agent_name]),
    [['VIP-kund: var extra noggrann', 'lena'], ['Kunden verkar upprörd', 'Anna Berg']]);
  assert.equal(tx.supervisor, 'lena');
  const lenaMsg = tx.messages.find((m) => m.kind === 'message' && m.dir === 'out' && m.supervisor === 'lena');
  assert.equal(lenaMsg.text, 'Hej, jag heter Lena och är chef här.');
  const annaTx = await anna.cmd('messages', { conv: offer.id });
  assert.ok(annaTx.messages.some((m) => m.event === 'supervisor_joined' && m.supervisor === 'lena'));

  // take over: Anna is released with a system note and owes no wrap-up
  assert.equal((await post('take_over')).status, 200);
  const taken = await anna.wait((e) => e.type === 'system' && e.event === 'taken_over');
  assert.equal(taken.supervisor, 'lena');
  await anna.wait((e) => e.type === 'conversation_removed' && e.conv === offer.id);
  assert.equal((await anna.cmd('wrapup', { conv: offer.id, reason: 1 })).error, 'no_wrapup_due');
  assert.equal((await anna.cmd('send', { conv: offer.id, text: 'x' })).error, 'not_your_conversation');
  // the customer's next SMS stays with the supervisor, who ends it
  await kannel.injectMo(CUSTOMER, EP, 'Tack!');
  await until(async () => {
    const t = await fetch(`${server.url}/api/supervisor/conversations/${offer.id}`, { headers: { cookie: sup.cookie } }).then((x) => x.json());
    return t.messages.some((m) => m.dir === 'in' && m.text === 'Tack!');
  }, 10000);
  assert.equal((await post('end')).status, 200);
  const ov = await fetch(`${server.url}/api/supervisor/overview`, { headers: { cookie: sup.cookie } }).then((x) => x.json());
  assert.deepEqual(ov.conversations, []);

  // nothing but the two replies ever reached the handset
  await new Promise((res) => setTimeout(res, 1000));
  assert.deepEqual(toHandset(), ['Hej! Jag tittar på det.', 'Hej, jag heter Lena och är chef här.']);
});
