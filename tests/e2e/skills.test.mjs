// Skills-based routing end to end (issue 17): skills over the admin API
// (validation, removal rules, export and import), the supervisor's view,
// and a Swedish conversation that reaches the Swedish agent first and falls
// back to a less proficient one after the queue's widening step.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const servers = [];
after(() => servers.forEach((x) => x.cleanup()));
function fresh() {
  const x = new Server();
  servers.push(x);
  return x.start();
}

function api(s, cookie, base = 'admin') {
  return async (method, path, body) => {
    const r = await fetch(`${s.url}/api/${base}/${path}`, {
      method, headers: { cookie, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
}

test('skills: admin API, removal rules, export/import, supervisor view', async () => {
  const s = await fresh();
  const admin = await login(s.url, 'admin', 'demo-admin');
  const A = api(s, admin.cookie);

  // the demo's skills and agents' proficiencies
  let r = await A('GET', 'skills');
  assert.deepEqual(r.body.skills.map((k) => k.name), ['Svenska', 'English']);
  r = await A('GET', 'agents/1');
  assert.deepEqual(r.body.skills, [{ skill: 1, level: 5 }, { skill: 2, level: 3 }]);

  // bad input names the field and says what to do
  r = await A('PUT', 'skills/3', { name: '' });
  assert.equal(r.status, 400);
  assert.equal(r.body.message, 'name: must be 1 to 200 bytes');
  r = await A('PUT', 'agents/1', { name: 'Anna Berg', teams: [1], skills: [{ skill: 1, level: 9 }] });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /^skills\[0\]\.level: must be a whole number from 1 to 5/);
  r = await A('PUT', 'agents/1', { name: 'Anna Berg', teams: [1], skills: [{ skill: 7, level: 2 }] });
  assert.equal(r.status, 422);
  assert.equal(r.body.error, 'no_such_skill');
  assert.match(r.body.message, /skills: no such skill/);
  r = await A('PUT', 'queues/1', { name: 'Kundtjänst', teams: [1], widen_step_s: -1 });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /^widen_step_s: must be a whole number from 0 to 86400/);
  // nothing changed by the refusals
  assert.deepEqual((await A('GET', 'agents/1')).body.skills, [{ skill: 1, level: 5 }, { skill: 2, level: 3 }]);

  // a new skill, required by a queue with widening
  assert.equal((await A('PUT', 'skills/3', { name: 'Fakturor' })).status, 200);
  r = await A('PUT', 'queues/2', { name: 'Sälj', teams: [2], rona_timeout_s: 30, auto_wrapup_s: 120,
    default_reason: 1, fallback: 1, skills: [{ skill: 3, level: 2 }], widen_step_s: 60 });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.skills, [{ skill: 3, level: 2 }]);
  assert.equal(r.body.widen_step_s, 60);

  // removal follows the resource rules: refused while anything names it
  r = await A('DELETE', 'skills/3');
  assert.equal(r.status, 409);
  assert.equal(r.body.error, 'in_use');
  assert.match(r.body.message, /^skills: still in use \(.*\): change or remove those first$/);
  r = await A('DELETE', 'skills/9');
  assert.equal(r.status, 404);

  // the supervisor sees skills by name
  const sup = await login(s.url, 'lena', 'demo-lena');
  const ov = (await api(s, sup.cookie, 'supervisor')('GET', 'overview')).body;
  const maja = ov.agents.find((x) => x.name === 'Maja Ek');
  assert.deepEqual(maja.skills, [{ skill: 1, name: 'Svenska', level: 3 }, { skill: 2, name: 'English', level: 5 }]);
  assert.deepEqual(ov.queues.find((q) => q.id === 2).skills, [{ skill: 3, name: 'Fakturor', level: 2 }]);

  // export carries skills; importing a file without skill 3 is refused as a
  // whole while queue 2 needs it, and works once the file drops both
  const exp = (await A('GET', 'export')).body;
  assert.deepEqual(exp.skills.map((k) => k.id), [1, 2, 3]);
  assert.deepEqual(exp.queues.find((q) => q.id === 2).skills, [{ skill: 3, level: 2 }]);
  const noSkill = structuredClone(exp);
  noSkill.skills = noSkill.skills.filter((k) => k.id !== 3);
  r = await A('POST', 'import', noSkill);
  assert.equal(r.status, 422);
  assert.match(r.body.message, /^skills: 3 \(not in the file\) cannot be removed: .*\(in_use\)/);
  assert.deepEqual([r.body.field, r.body.code], ['skills', 'in_use']);
  assert.equal((await A('GET', 'skills')).body.skills.length, 3);
  noSkill.queues.find((q) => q.id === 2).skills = [];
  r = await A('POST', 'import', noSkill);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await A('GET', 'skills')).body.skills.length, 2);
  assert.equal((await A('GET', 'skills/3')).status, 404);
  assert.equal((await s.stop()).code, 0, s.output);
});

test('skills: the Swedish conversation reaches the Swedish agent first, falls back after widening', async () => {
  const s = await fresh();
  const admin = await login(s.url, 'admin', 'demo-admin');
  const A = api(s, admin.cookie);
  // Kundtjänst asks Svenska 4; every 2 s waiting lowers that by one
  let r = await A('PUT', 'queues/1', { name: 'Kundtjänst', teams: [1], rona_timeout_s: 30,
    skills: [{ skill: 1, level: 4 }], widen_step_s: 2 });
  assert.equal(r.status, 200);

  const maja = await Desk.open(s.url, 'maja', 'demo-maja'); // Svenska 3
  const erik = await Desk.open(s.url, 'erik', 'demo-erik'); // Svenska 4
  await maja.cmd('set_state', { state: 'available' }); // Maja has waited longest
  await new Promise((res) => setTimeout(res, 50));
  await erik.cmd('set_state', { state: 'available' });

  await simSend(s.url, '+46701230001', EP, 'Hej, jag har en fråga');
  const first = await erik.offer();
  assert.equal(first.number !== undefined, true);
  await erik.cmd('accept', { conv: first.id });
  // Erik now takes no more: the next one waits for a Swedish match, then
  // widens to Maja's level
  await erik.cmd('set_state', { state: 'idle' });
  const t0 = Date.now();
  await simSend(s.url, '+46701230002', EP, 'Hej igen');
  const sup = await login(s.url, 'lena', 'demo-lena');
  const S = api(s, sup.cookie, 'supervisor');
  const waiting = (await S('GET', 'overview')).body.conversations.find((c) => c.state === 'queued');
  assert.ok(waiting, 'the second conversation waits while only Maja is available');
  assert.equal(waiting.widened, 0);
  const second = await maja.offer(8000);
  const waited = Date.now() - t0;
  assert.ok(waited >= 1800, `offered to Maja after ${waited} ms, before the widening step`);
  assert.notEqual(second.id, first.id);
  await maja.cmd('accept', { conv: second.id });
  const ov = (await S('GET', 'overview')).body;
  assert.equal(ov.conversations.find((c) => c.id === second.id).widened, 1);
  await maja.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

test('skills: a transfer to a queue adds required skills; bad skills change nothing', async () => {
  const s = await fresh();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46701230003', EP, 'Hej, en fråga om fakturan');
  const c = await anna.offer();
  assert.equal((await anna.cmd('accept', { conv: c.id })).ok, true);

  // Erik becomes Available first: without skills he would get the transfer
  const erik = await Desk.open(s.url, 'erik', 'demo-erik'); // Svenska 4, no English
  const maja = await Desk.open(s.url, 'maja', 'demo-maja'); // English 5
  await erik.cmd('set_state', { state: 'available' });
  await new Promise((res) => setTimeout(res, 50));
  await maja.cmd('set_state', { state: 'available' });

  // the skills the desktop can pick from come with the transfer targets
  const tg = await anna.cmd('transfer_targets');
  assert.deepEqual(tg.skills, [{ id: 1, name: 'Svenska' }, { id: 2, name: 'English' }]);

  // bad skills: refused, the conversation stays Anna's
  let r = await anna.cmd('transfer', { conv: c.id, queue: 1, skills: [{ skill: 9, level: 2 }] });
  assert.equal(r.ok, false);
  assert.equal(r.error, 'no_such_skill');
  r = await anna.cmd('transfer', { conv: c.id, queue: 1, skills: [{ skill: 2, level: 6 }] });
  assert.equal(r.error, 'bad_request');
  assert.match(r.message, /"level": 1-5/);
  r = await anna.cmd('transfer', { conv: c.id, agent: 3, skills: [{ skill: 2, level: 1 }] });
  assert.equal(r.error, 'bad_request');
  const sup = await login(s.url, 'lena', 'demo-lena');
  const S = api(s, sup.cookie, 'supervisor');
  let conv = (await S('GET', 'overview')).body.conversations.find((x) => x.id === c.id);
  assert.equal(conv.owner_name, 'Anna Berg');
  assert.deepEqual(conv.skills, []);

  // English 4 required from now on: Maja, not Erik who waited longer
  r = await anna.cmd('transfer', { conv: c.id, queue: 1, skills: [{ skill: 2, level: 4 }] });
  assert.equal(r.ok, true, JSON.stringify(r));
  const offered = await maja.offer();
  assert.equal(offered.id, c.id);
  conv = (await S('GET', 'overview')).body.conversations.find((x) => x.id === c.id);
  assert.deepEqual(conv.skills, [{ skill: 2, name: 'English', level: 4 }]);
  assert.equal(erik.events.some((e) => e.type === 'conversation' && e.conversation.id === c.id), false);
  for (const d of [anna, erik, maja]) await d.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
