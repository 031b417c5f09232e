// An entity (team, queue, entry point, agent, ...) is read by one module
// (src/store/entity_json.c) for the configuration file and the admin API:
// the same bad input gets the same clear error from both paths, the file's
// prefixed with where it is ("c.json: queues[0]."), the API's as is.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Server, bin, webDir } from './lib/server.mjs';
import { login } from './lib/client.mjs';

const server = new Server();
const dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-entity-'));
after(() => { server.cleanup(); rmSync(dir, { recursive: true, force: true }); });

const numberRule = 'must be a phone number or short code: an optional + and 3 to 15 digits, without blanks (+46700000001, 71000)';
const base = { teams: [{ id: 1, name: 'T' }], queues: [{ id: 1, name: 'Q', teams: [1] }] };
// [kind, entity, message, the API's field problem (docs/api.md, "Field problems")]
const cases = [
  ['teams', { id: 7, name: 'T', colour: 'red' }, 'colour: unknown field', { field: 'colour', code: 'unknown_field' }],
  ['teams', { id: 7 }, 'name: is required', { field: 'name', code: 'required' }],
  ['teams', { id: 7, name: '' }, 'name: must be 1 to 200 bytes', { field: 'name', code: 'required' }],
  ['skills', { id: 7, name: 'x'.repeat(201) }, 'name: must be 1 to 200 bytes', { field: 'name', code: 'too_long', max: 200 }],
  ['agents', { id: 7, name: '', username: 'a', password: 'abcd' }, 'name: must be 1 to 200 bytes', { field: 'name', code: 'required' }],
  ['entry_points', { id: 7, number: '+46 70', queue: 1 }, `number: ${numberRule}`,
    { field: 'number', code: 'number_format', min: 3, max: 15 }],
  ['entry_points', { id: 7, number: 'abc', queue: 1 }, `number: ${numberRule}`,
    { field: 'number', code: 'number_format', min: 3, max: 15 }],
  ['wrapup_reasons', { id: 7, name: 5 }, 'name: must be a string', { field: 'name', code: 'not_text' }],
  ['queues', { id: 7, name: 'Q', rona_timeout_s: 0 }, 'rona_timeout_s: must be a whole number from 1 to 3600',
    { field: 'rona_timeout_s', code: 'range', min: 1, max: 3600 }],
  ['queues', { id: 7, name: 'Q', auto_wrapup_s: 'soon' }, 'auto_wrapup_s: must be a whole number from 0 to 86400',
    { field: 'auto_wrapup_s', code: 'range', min: 0, max: 86400 }],
  ['queues', { id: 7, name: 'Q', teams: [0] }, 'teams: must hold team ids', { field: 'teams', code: 'bad_id' }],
  ['queues', { id: 7, name: 'Q', skills: [{ skill: 1, level: 9 }] }, 'skills[0].level: must be a whole number from 1 to 5',
    { field: 'skills[0].level', code: 'range', min: 1, max: 5 }],
  ['entry_points', { id: 7, number: '+4670', queue: 1, overflow_queue: 1, max_wait_s: 60 },
    "overflow_queue: must differ from the entry point's queue", { field: 'overflow_queue', code: 'same_queue' }],
  ['entry_points', { id: 7, number: '+4670' }, 'queue: is required', { field: 'queue', code: 'required' }],
  ['entry_points', { id: 7, number: '+4670', queue: 1, hours: { time_zone: 'Europe/Stockholm', week: { mon: ['09:00-12:00', '11:00-13:00'] } } },
    'hours.week.mon[1]: overlaps an earlier span', { field: 'hours.week.mon[1]', code: 'overlap' }],
  ['entry_points', { id: 7, number: '+4670', queue: 1, max_wait_s: 60 },
    'max_wait_s: a maximum wait needs an overflow_queue or an overflow_reply, and those need a maximum wait',
    { field: 'max_wait_s', code: 'needs_overflow' }],
  ['agents', { id: 7, name: 'A', capacity: 1001, username: 'a', password: 'abcd' },
    'capacity: must be a whole number from 1 to 1000', { field: 'capacity', code: 'range', min: 1, max: 1000 }],
];

function fileError(kind, entity) {
  const cfg = { ...base, [kind]: [...(base[kind] || []), entity] };
  const f = path.join(dir, 'c.json');
  writeFileSync(f, JSON.stringify(cfg));
  const r = spawnSync(bin, ['serve', '--config', f, '--listen', '127.0.0.1:0', '--data', dir, '--web', webDir],
    { encoding: 'utf8', env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' }, timeout: 30000 });
  assert.equal(r.status, 1, `${kind}: exit ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stderr.trim();
}

test('a bad entity gets the same error from the configuration file and the admin API', async () => {
  const s = await server.start();
  const admin = await login(s.url, 'admin', 'demo-admin');
  for (const [kind, entity, want, problem] of cases) {
    const r = await fetch(`${s.url}/api/admin/${kind}/${entity.id}`, {
      method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' },
      body: JSON.stringify(entity),
    });
    const body = await r.json();
    assert.equal(r.status, 400, `${kind} ${JSON.stringify(entity)}: ${JSON.stringify(body)}`);
    assert.equal(body.message, want, `admin API, ${kind}`);
    const { error, message, ...rest } = body;
    assert.deepEqual(rest, problem, `admin API, ${kind}: ${want}`);
    const i = (base[kind] || []).length;
    assert.equal(fileError(kind, entity), `textdesk serve: ${path.join(dir, 'c.json')}: ${kind}[${i}].${want}`,
      `configuration file, ${kind}`);
  }
});
