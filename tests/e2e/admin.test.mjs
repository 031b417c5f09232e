// Administration over REST (issue 7, first part): authorisation, every
// resource created, changed and deleted with validation, deletions while
// conversations are open, export and all-or-nothing import.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login, simSend } from './lib/client.mjs';

const EP = '+46700000001';
const server = new Server();
after(() => server.cleanup());

function api(s, cookie) {
  return async (method, path, body) => {
    const r = await fetch(`${s.url}/api/admin/${path}`, {
      method, headers: { cookie, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };
}

test('administration: authorisation, validation, live changes, export and import', async () => {
  const s = await server.start();
  const agent = await login(s.url, 'anna', 'demo-anna');
  assert.equal((await api(s, agent.cookie)('GET', 'queues')).status, 403);
  assert.equal((await api(s, '')('GET', 'queues')).status, 401);
  const admin = await login(s.url, 'admin', 'demo-admin');
  assert.equal(admin.status, 200);
  const A = api(s, admin.cookie);

  let r = await A('GET', 'queues');
  assert.deepEqual(r.body.queues.map((q) => q.name), ['Kundtjänst', 'Sälj']);
  assert.equal(r.body.queues[1].fallback, 1);

  // validation names the field and the problem
  r = await A('PUT', 'teams/9', { id: 9, name: 'Nya', colour: 'red' });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /^colour: unknown field/);
  // ... and, for a page that words it in its own language, the field and
  // the problem's code (docs/api.md, "Field problems")
  assert.deepEqual([r.body.error, r.body.field, r.body.code], ['bad_field', 'colour', 'unknown_field']);
  r = await A('PUT', 'queues/9', { name: 'X', rona_timeout_s: 'soon' });
  assert.match(r.body.message, /^rona_timeout_s: must be a whole number/);
  assert.deepEqual([r.body.field, r.body.code, r.body.min, r.body.max], ['rona_timeout_s', 'range', 1, 3600]);
  r = await A('PUT', 'queues/9', { teams: [] });
  assert.deepEqual([r.status, r.body.field, r.body.code], [400, 'name', 'required']);
  r = await A('PUT', 'queues/9', { name: 'X', teams: [42] });
  assert.equal(r.status, 422);
  assert.match(r.body.message, /teams: no such team/);
  assert.deepEqual([r.body.error, r.body.field, r.body.code], ['no_such_team', 'teams', 'no_such_team']);
  // which of a queue's references names nothing
  r = await A('PUT', 'queues/9', { name: 'X', fallback: 42 });
  assert.deepEqual([r.status, r.body.field, r.body.code], [422, 'fallback', 'no_such_queue']);
  assert.match(r.body.message, /^queues: fallback: no such queue/);
  r = await A('PUT', 'queues/9', { name: '', teams: [] });
  assert.deepEqual([r.status, r.body.field, r.body.code], [400, 'name', 'required']);
  r = await A('PUT', 'teams/9', { id: 8, name: 'X' });
  assert.match(r.body.message, /^id: differs/);
  assert.deepEqual([r.body.field, r.body.code], ['id', 'id_mismatch']);
  r = await A('PUT', 'agents/9', { name: 'Ny Agent', teams: [1] });
  assert.match(r.body.message, /username: and a password are needed/);
  assert.deepEqual([r.body.field, r.body.code], ['username', 'needs_account']);
  r = await A('PUT', 'agents/9', { name: 'Ny Agent', teams: [1], username: 'ny', password: 'x' });
  assert.deepEqual([r.body.field, r.body.code, r.body.min], ['password', 'too_short', 4]);
  r = await A('PUT', 'entry_points/9', { number: '+46700000009', queue: 1, hours: { time_zone: 'Europe/Stockholm', week: { mon: ['17:00-08:00'] } } });
  assert.deepEqual([r.status, r.body.field, r.body.code], [400, 'hours.week.mon[0]', 'span']);

  // create a team, a queue, a reason, an entry point and an agent
  assert.equal((await A('PUT', 'teams/3', { name: 'Kväll' })).status, 200);
  r = await A('PUT', 'queues/3', { name: 'Kvällskö', teams: [3], rona_timeout_s: 20, fallback: 1 });
  assert.equal(r.status, 200);
  assert.equal(r.body.rona_timeout_s, 20);
  assert.equal((await A('PUT', 'wrapup_reasons/9', { name: 'Spam' })).status, 200);
  assert.equal((await A('PUT', 'entry_points/3', { number: '+46700000003', queue: 3 })).status, 200);
  r = await A('PUT', 'entry_points/4', { number: EP, queue: 3 });
  assert.equal(r.status, 409); // the number belongs to entry point 1
  assert.deepEqual([r.body.error, r.body.field, r.body.code], ['in_use', 'number', 'in_use']);
  r = await A('PUT', 'agents/4', { name: 'Olle Kväll', teams: [3], capacity: 2,
    username: 'olle', password: 'olle-pw' });
  assert.equal(r.status, 200);
  assert.equal(r.body.username, 'olle');
  assert.equal(r.body.capacity, 2);
  const olle = await Desk.open(s.url, 'olle', 'olle-pw');
  assert.ok(olle.snapshot.wrapup_reasons.some((w) => w.name === 'Spam'));
  // change the password
  assert.equal((await A('PUT', 'agents/4', { name: 'Olle Kväll', teams: [3], password: 'nytt-pw' })).status, 200);
  assert.equal((await login(s.url, 'olle', 'olle-pw')).status, 401);
  assert.equal((await login(s.url, 'olle', 'nytt-pw')).status, 200);

  // delete an entry point while its conversation is open: terminated with a warning
  await olle.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46701111111', '+46700000003', 'Hej kvällen');
  const offer = await olle.offer();
  await olle.cmd('accept', { conv: offer.id });
  r = await A('DELETE', 'queues/3');
  assert.equal(r.status, 409); // entry point 3 routes to it
  assert.deepEqual([r.body.error, r.body.code, r.body.field], ['in_use', 'in_use', undefined]);
  assert.equal((await A('DELETE', 'entry_points/3')).status, 200);
  const term = await olle.conv(offer.id, (c) => c.state === 'terminated');
  assert.equal(term.terminated, 'entry_point_removed');
  assert.equal((await olle.cmd('send', { conv: offer.id, text: 'x' })).error, 'terminated');
  assert.equal((await olle.cmd('end', { conv: offer.id })).ok, true);
  assert.equal((await olle.cmd('wrapup', { conv: offer.id, reason: 9 })).ok, true);

  // delete an agent who holds a conversation: it goes back to the queue
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  await anna.cmd('set_state', { state: 'available' });
  await simSend(s.url, '+46703333333', EP, 'Hej');
  const o2 = await anna.offer();
  await anna.cmd('accept', { conv: o2.id });
  const erik = await Desk.open(s.url, 'erik', 'demo-erik');
  await erik.cmd('set_state', { state: 'available' });
  assert.equal((await A('DELETE', 'agents/1')).status, 200);
  const moved = await erik.offer();
  assert.equal(moved.id, o2.id);
  assert.equal((await login(s.url, 'anna', 'demo-anna')).status, 401);
  assert.equal((await A('GET', 'agents/1')).status, 404);
  assert.equal((await A('DELETE', 'agents/1')).status, 404);

  // export, then import it back: accepted, nothing changes
  const exp = await A('GET', 'export');
  assert.equal(exp.status, 200);
  assert.ok(exp.body.agents.every((x) => x.password_hash.startsWith('$argon2id$')));
  r = await A('POST', 'import', exp.body);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual((await A('GET', 'export')).body, exp.body);

  // an import with one bad reference changes nothing at all
  const broken = structuredClone(exp.body);
  broken.teams.push({ id: 7, name: 'Ska inte finnas' });
  broken.entry_points.push({ id: 7, number: '+46700000007', queue: 77 });
  r = await A('POST', 'import', broken);
  assert.equal(r.status, 422);
  assert.match(r.body.message, /^entry_points\[\d+\]\.queue: no such queue/);
  assert.deepEqual([r.body.error, r.body.code], ['bad_config', 'no_such_queue']);
  assert.match(r.body.field, /^entry_points\[\d+\]\.queue$/);
  assert.equal((await A('GET', 'teams/7')).status, 404);
  // so does one whose new agent has no account, or a username taken (found
  // by fuzz/fuzz_admin.c: the agent used to be created all the same)
  const noacc = structuredClone(exp.body);
  noacc.agents.push({ id: 77, name: 'Utan konto', teams: [1] });
  r = await A('POST', 'import', noacc);
  assert.equal(r.status, 422);
  assert.match(r.body.message, /agents\[\d+\]\.username: and a password are needed/);
  assert.match(r.body.field, /^agents\[\d+\]\.username$/);
  assert.equal(r.body.code, 'needs_account');
  const twice = structuredClone(exp.body);
  twice.agents.push({ id: 77, name: 'A', teams: [1], username: 'dup', password_hash: exp.body.agents[0].password_hash });
  twice.agents.push({ id: 78, name: 'B', teams: [1], username: 'dup', password_hash: exp.body.agents[0].password_hash });
  r = await A('POST', 'import', twice);
  assert.equal(r.status, 422);
  assert.match(r.body.message, /username: is taken/);
  assert.equal(r.body.code, 'taken');
  assert.deepEqual((await A('GET', 'export')).body, exp.body);
  r = await A('PUT', 'agents/77', { name: 'Dubblett', teams: [1], username: exp.body.agents[0].username, password_hash: exp.body.agents[0].password_hash });
  assert.equal(r.status, 400);
  assert.match(r.body.message, /^username: is taken/);
  assert.equal((await A('GET', 'agents/77')).status, 404);
  // an import that drops the Sälj entry point and queue removes them
  const smaller = structuredClone(exp.body);
  smaller.entry_points = smaller.entry_points.filter((e) => e.number !== '71000');
  smaller.queues = smaller.queues.filter((q) => q.name !== 'Sälj');
  r = await A('POST', 'import', smaller);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual((await A('GET', 'queues')).body.queues.map((q) => q.name), ['Kundtjänst', 'Kvällskö']);
  assert.equal((await A('GET', 'entry_points/2')).status, 404);

  await olle.close();
  await erik.close();
  assert.equal((await s.stop()).code, 0, s.output);
});
