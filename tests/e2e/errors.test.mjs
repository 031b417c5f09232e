// Every error a client can cause gets an answer it can read (issue 19, items
// 10 and 13): each 4xx/5xx of the API carries a JSON body with `error` and a
// `message` in the product's words that never quotes the bytes sent, and
// every WebSocket command with an `id` gets a result that echoes it, also
// when its text holds U+0000 or half a surrogate pair.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { Desk, login } from './lib/client.mjs';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const servers = [];
after(() => servers.forEach((s) => s.cleanup()));
function start() {
  const s = new Server();
  servers.push(s);
  return s.start();
}

// A message in the product's words: no flag or function of the JSON
// library, and none of the marker text we put into what we sent. A field's
// name may be named ('named'): decoded, cut on a character boundary.
// jansson's unpack texts ("Object item not found: x", "Expected string, got
// integer", "1 object item(s) left unpacked: x") are the library's words too.
// And it says what to do: the problem, then after a colon the way out, or
// an instruction alone ("use GET, PUT or DELETE").
function productWords(message, what, named) {
  assert.equal(typeof message, 'string', what);
  assert.ok(message.length > 0, what);
  assert.doesNotMatch(message, /JSON_|jansson|json_|\uFFFD|Nattk|Object item|Expected \w+, got|left unpacked/,
    `${what}: ${message}`);
  if (!named) assert.doesNotMatch(message, /ZQX/, `${what}: ${message}`);
  assert.match(message, /: \S|^(use|give|send|log in|remove|write|choose|check) /i, `${what}: says what to do: ${message}`);
}

test('every 4xx and 5xx answer of the API has a JSON error body', async () => {
  const s = await start();
  const admin = await login(s.url, 'admin', 'demo-admin');
  assert.equal(admin.status, 200);
  const long = `ZQX${'a'.repeat(59)}\u00f6\u00f6`; // cut at 63 bytes: inside the ö
  const cases = [
    // [what, method, path, body (string or Buffer), with the admin's cookie]
    ['fuzz crash body', 'PUT', '/api/admin/queues/3',
      Buffer.from('{"name":"Nattk\\\u00f6","teams":[1,2?', 'utf8'), true],
    ['cut UTF-8 after a backslash', 'PUT', '/api/admin/teams/1',
      Buffer.concat([Buffer.from('{"name":"Nattk\\'), Buffer.from([0xc3]), Buffer.from('"}')]), true],
    ['invalid UTF-8', 'PUT', '/api/admin/teams/1',
      Buffer.concat([Buffer.from('{"name":"Nattk'), Buffer.from([0xff]), Buffer.from('"}')]), true],
    ['U+0000', 'PUT', '/api/admin/teams/1', '{"name":"Nattk\\u0000"}', true],
    ['lone surrogate', 'PUT', '/api/admin/teams/1', '{"name":"Nattk\\ud800"}', true],
    ['duplicate field', 'PUT', '/api/admin/teams/1', '{"name":"a","name":"b"}', true],
    ['not an object', 'PUT', '/api/admin/teams/1', '[1]', true],
    ['too deep', 'PUT', '/api/admin/teams/1', '['.repeat(40), true],
    ['long unknown field', 'PUT', '/api/admin/teams/1', JSON.stringify({ name: 'x', [long]: 1 }), true],
    ['long unknown section', 'POST', '/api/admin/import', JSON.stringify({ [long]: [] }), true],
    ['long unknown setting', 'PUT', '/api/admin/settings', JSON.stringify({ [long]: true }), true],
    ['no such endpoint', 'GET', '/api/ZQX%C3%B6%FF', undefined, true],
    ['no such entity', 'GET', '/api/admin/teams/4242', undefined, true],
    ['path too long', 'GET', `/api/admin/teams/${'1'.repeat(300)}`, undefined, true], // before: lws's HTML 414
    ['path too long, with a body', 'POST', `/api/${'a'.repeat(300)}`, '{"a":1}', true],
    ['method', 'PATCH', '/api/admin/teams/1', '{}', true],
    ['login by GET', 'GET', '/api/login', undefined, false], // before: 404 "no such endpoint"
    ['logout by DELETE', 'DELETE', '/api/logout', undefined, true],
    ['not logged in', 'GET', '/api/admin/teams', undefined, false],
    ['login bad json', 'POST', '/api/login', '{"username":"Nattk', false],
    ['login U+0000', 'POST', '/api/login', '{"username":"a\\u0000","password":"x"}', false],
    ['too large', 'POST', '/api/sim/send', 'x'.repeat(70000), false],
    ['sim bad', 'POST', '/api/sim/send', '{"from":"ZQX"}', false],
    // a sender no reply could go back to (before: a conversation with "abc")
    ['sim from abc', 'POST', '/api/sim/send', '{"from":"abc","to":"+46700000001","text":"Hej"}', false],
    // a body of the wrong shape: named in the product's words (before: jansson's)
    ['webhook without events', 'POST', '/api/admin/webhooks', '{"name":"x","url":"http://a.example/"}', true],
    ['long unknown webhook field', 'POST', '/api/admin/webhooks',
      JSON.stringify({ name: 'x', url: 'http://a.example/', events: ['*'], [long]: 1 }), true],
    ['token agent not a number', 'POST', '/api/admin/tokens', '{"name":"x","role":"agent","agent":"1"}', true],
    ['token twice', 'POST', '/api/admin/tokens', '{"name":"x","role":"agent","name":"y"}', true],
    ['no such team', 'DELETE', '/api/admin/teams/4242', undefined, true],
    ['history without conv', 'GET', '/api/history', undefined, 'anna'],
    ['agent calls admin', 'GET', '/api/admin/teams', undefined, 'anna'],
    ['not logged in, me', 'GET', '/api/me', undefined, false],
    // a wrong method is refused by name (before: served as the GET, or
    // "no such resource", or a PATCH of the settings stored as a PUT)
    ['session by DELETE', 'DELETE', '/api/session', undefined, true],
    ['health by POST', 'POST', '/api/health', '{}', false],
    ['me by PUT', 'PUT', '/api/me', '{}', true],
    ['lists by POST', 'POST', '/api/lists', '{}', 'anna'],
    ['sim inbox by DELETE', 'DELETE', '/api/sim/inbox?number=%2B46701234567', undefined, false],
    ['sim entry points by POST', 'POST', '/api/sim/entry_points', '{}', false],
    ['settings by PATCH', 'PATCH', '/api/admin/settings', '{"mask_sensitive_data":true}', true],
    ['settings by POST', 'POST', '/api/admin/settings', '{"mask_sensitive_data":true}', true],
    ['export by POST', 'POST', '/api/admin/export', '{}', true],
    ['import by PUT', 'PUT', '/api/admin/import', '{}', true],
    ['conversations.csv by DELETE', 'DELETE', '/api/admin/report/conversations.csv', undefined, true],
    // and every refusal says what to do
    ['retention by DELETE', 'DELETE', '/api/admin/retention', undefined, true],
    ['no such token', 'DELETE', '/api/admin/tokens/4242', undefined, true],
    ['no such webhook', 'DELETE', '/api/admin/webhooks/4242', undefined, true],
    ['no such gateway', 'POST', '/api/gw/kannel/nope/mo', '{}', false],
    ['supervisor call', 'POST', '/api/supervisor/conversations/x/join', '{}', true],
    ['audit filter', 'GET', '/api/admin/audit?limit=-1', undefined, true],
    ['csv range', 'GET', '/api/admin/report/conversations.csv?from=x', undefined, true],
  ];
  const anna = await login(s.url, 'anna', 'demo-anna');
  assert.equal(anna.status, 200);
  for (const [what, method, path, body, asAdmin] of cases) {
    const r = await fetch(`${s.url}${path}`, {
      method, body,
      headers: { 'content-type': 'application/json',
        ...(asAdmin === 'anna' ? { cookie: anna.cookie } : asAdmin ? { cookie: admin.cookie } : {}) },
    });
    assert.ok(r.status >= 400 && r.status < 500, `${what}: status ${r.status}`);
    assert.match(r.headers.get('content-type') || '', /application\/json/, what);
    const text = await r.text();
    assert.ok(text.length > 0, `${what}: empty body`);
    const j = JSON.parse(text);
    assert.equal(typeof j.error, 'string', what);
    productWords(j.message, what, what.startsWith('long unknown'));
    if (what === 'long unknown webhook field') assert.match(j.message, /^ZQXa+\u00f6?: unknown field/, j.message);
    if (what === 'webhook without events') assert.match(j.message, /^events: missing/, j.message);
    if (what === 'token agent not a number') assert.match(j.message, /^agent: must be a whole number/, j.message);
    if (what === 'history without conv') assert.equal(r.status, 400, what);
    if (what.startsWith('path too long')) assert.deepEqual([r.status, j.error], [414, 'uri_too_long'], what);
    if (what === 'sim from abc') assert.deepEqual([r.status, j.error], [422, 'invalid'], what);
    if (['login by GET', 'logout by DELETE', 'import by PUT'].includes(what)) assert.deepEqual([r.status, j.error, j.message], [405, 'method_not_allowed', 'use POST'], what);
    if (/^(session|health|me|lists|sim inbox|sim entry points|export|conversations.csv) by /.test(what))
      assert.deepEqual([r.status, j.error, j.message], [405, 'method_not_allowed', 'read only: use GET'], what);
    if (what.startsWith('settings by ')) assert.deepEqual([r.status, j.error], [405, 'method_not_allowed'], what);
    // the whole name, cut on a character (63 bytes: before, 60, anywhere),
    // and what to send instead
    if (what === 'long unknown setting') assert.equal(j.message, `${long.slice(0, 62)}: unknown setting or not a boolean: send {"mask_sensitive_data": true or false}`);
  }
  const set = await fetch(`${s.url}/api/admin/settings`, { headers: { cookie: admin.cookie } });
  assert.deepEqual(await set.json(), { mask_sensitive_data: false }, 'a refused method stored nothing');
  assert.equal((await s.stop()).code, 0, s.output);
});

test('every WebSocket command with an id is answered with that id', async () => {
  const s = await start();
  const anna = await Desk.open(s.url, 'anna', 'demo-anna');
  const frames = [
    // [raw frame, id, error]
    ['{"id":71,"cmd":"send","conv":1,"text":"Nattk\\u0000"}', 71, 'bad_text'],
    ['{"id":"c72","cmd":"send","conv":1,"text":"Nattk\\ud800"}', 'c72', 'bad_text'],
    ['{"cmd":"send","text":"\\udc00","id":73}', 73, 'bad_text'],
    ['{"id":74,"cmd":"set_variable","conv":1,"key":"k","value":"\\u0000"}', 74, 'bad_text'],
    ['{"id":75,"cmd":"ping","cmd":"ping"}', 75, 'bad_json'],
    [`{"id":76,"cmd":"ZQX${'a'.repeat(59)}\u00f6\u00f6"}`, 76, 'unknown_command'],
    ['{"id":77,"cmd":7}', 77, 'bad_request'],
    ['{"id":78,"cmd":"send","conv":1,"text":"Nattk', null, 'bad_json'],
    // a number beyond 64 bits: before, the id was lost (answered with null)
    ['{"id":79,"cmd":"accept","conv":100000000000000000000}', 79, 'bad_json'],
  ];
  for (const [raw, id, error] of frames) {
    anna.raw(raw);
    const r = await anna.wait((e) => e.type === 'result' && e.error === error);
    assert.equal(r.ok, false, raw);
    assert.equal(r.id, id, raw);
    if (error !== 'unknown_command') productWords(r.message, raw);
  }
  // the core's refusals say what to do too (before: "no such offer is
  // pending for this agent", "no such wrap-up or idle reason")
  for (const [cmd, args, error] of [
    ['accept', { conv: 4242 }, 'no_such_conversation'],
    ['end', { conv: 4242 }, 'no_such_conversation'],
    ['set_state', { state: 'idle', reason: 4242 }, 'no_such_reason'],
    ['conference_cancel', { conv: 4242 }, 'no_such_conversation'],
    ['outbound', { entry_point: 4242, number: '+46701234567' }, 'no_such_entry_point'],
    ['resend', { conv: 4242, seq: 1 }, 'not_resendable'],
    ['sms_info', {}, 'bad_request'], // before: invalid_utf8 for a text never sent
  ]) {
    const r = await anna.cmd(cmd, args);
    assert.equal(r.error, error, `${cmd}: ${JSON.stringify(r)}`);
    productWords(r.message, cmd);
  }
  // an outbound number no SMS can go to is refused by name, nothing opened
  // (before: a conversation with "abc" opened)
  for (const number of ['abc', '+46 70 123', '+4670abc', '12', '+46701234567890123']) {
    const r = await anna.cmd('outbound', { entry_point: 1, number });
    assert.deepEqual([r.ok, r.error, r.field], [false, 'invalid', 'number'], `${number}: ${JSON.stringify(r)}`);
    assert.match(r.message, /^number: .*: write .*\+46701234567/, r.message);
  }
  const again = await Desk.open(s.url, 'anna', 'demo-anna');
  assert.deepEqual(again.snapshot.conversations, [], 'no conversation opened');
  await again.close();
  // a whole surrogate pair is a character: the command goes through to the core
  const ok = await anna.cmd('sms_info', { text: '\ud83d\ude00' });
  assert.equal(ok.ok, true);
  // and the connection is still there
  assert.equal((await anna.cmd('ping')).ok, true);
  await anna.close();
  assert.equal((await s.stop()).code, 0, s.output);
});

// A page's text for an error: the problem, then what to do ("... : refresh
// the list.", "... . Refresh the list."), not the problem alone.
function saysWhatToDo(text, what) {
  assert.match(text || '', /[:.;] \S/, `${what}: "${text}" says what to do`);
}

// No server: every error code of the core (src/core/cc.h) is in docs/api.md's
// table and reads in the agent's language on the desktop (err_CODE in
// web/i18n; otherwise the desktop would show the server's English message);
// the table lists no other code, and each code is one the server can send
// (returned somewhere in src/: a documented code nothing returns misleads
// the client that waits for it, as "wrapup_due" did).
test('every core error code is documented and translated for the desktop', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  const cch = read('../../src/core/cc.h');
  const codes = [...cch.matchAll(/X\((\w+), \d+, "(\w+)"/g)].map((m) => m[2]);
  assert.ok(codes.length >= 34, codes.join());
  const docs = read('../../docs/api.md');
  const table = docs.slice(docs.indexOf('## Core error codes')).split('\n## ')[0];
  const listed = table.split('\n').filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split(' | ')[0].matchAll(/`(\w+)`/g)].map((m) => m[1]));
  assert.deepEqual(listed.filter((c) => !codes.includes(c)), [], 'docs/api.md lists codes the core does not have');
  // each message of the core says the problem and then, after a colon, what to do
  const cmsgs = [...cch.slice(cch.indexOf('#define CC_ERRORS')).split('\n\n')[0]
    .matchAll(/X\(\w+, \d+, "(\w+)",[\s\\]*((?:"[^"]*"[\s\\]*)+)\)/g)]
    .map((m) => [m[1], [...m[2].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('')]);
  assert.equal(cmsgs.length, codes.length, cmsgs.map((m) => m[0]).join());
  for (const [code, msg] of cmsgs) assert.match(msg, /^[a-z][^:]*: \S/, `src/core/cc.h: ${code}: "${msg}" says what to do`);
  // what the core, the API and the application return (cli_selfcheck only expects)
  const src = ['core', 'api', 'app'].flatMap((d) => readdirSync(fileURLToPath(new URL(`../../src/${d}`, import.meta.url)))
    .filter((f) => f.endsWith('.c') && !f.startsWith('cli_')).map((f) => read(`../../src/${d}/${f}`))).join('\n');
  for (const [, name, code] of cch.matchAll(/X\((\w+), \d+, "(\w+)"/g))
    assert.ok(new RegExp(`-CC_E_${name}\\b`).test(src), `${code} (CC_E_${name}) is never returned`);
  for (const lang of ['sv', 'en']) {
    const d = JSON.parse(read(`../../web/i18n/${lang}.json`));
    for (const c of codes) {
      assert.ok(table.includes(`\`${c}\``), `docs/api.md, "Core error codes": ${c}`);
      assert.ok(d[`err_${c}`], `web/i18n/${lang}.json: err_${c}`);
      saysWhatToDo(d[`err_${c}`], `web/i18n/${lang}.json: err_${c}`);
    }
    // and so does every code the API answers a command with itself: the
    // parser's (bad_text a person can cause: a pasted character no SMS can
    // hold; the others a desktop out of step) and the resend's
    const parser = [...read('../../src/api/api_parse.c').matchAll(/(?:code = |fail\(e, )"(\w+)"/g)].map((m) => m[1]);
    const own = [...read('../../src/api/api.c').matchAll(/reply_bad\(ws, \w+,\s*"(\w+)"/g)].map((m) => m[1]);
    assert.ok(own.includes('not_resendable') && parser.includes('bad_text') && parser.includes('too_deep'), [...own, ...parser].join());
    for (const c of new Set([...parser, ...own])) saysWhatToDo(d[`err_${c}`], `web/i18n/${lang}.json: err_${c}`);
  }
});

// No server: a refused login reads with what to do on every page that has
// the login form (before: "Wrong username or password." alone).
test('a refused login says what to do, in Swedish and English, on every page', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  for (const dir of ['i18n', 'admin/i18n', 'supervisor/i18n', 'reports/i18n'])
    for (const lang of ['sv', 'en']) {
      const d = JSON.parse(read(`../../web/${dir}/${lang}.json`));
      for (const k of ['login_failed', 'login_error', 'login_wait', 'login_offline', 'password_login_off'])
        saysWhatToDo(d[k], `web/${dir}/${lang}.json: ${k}`);
    }
});

// No server: the simulator page words every code /api/sim/send can answer
// (its own, the core's for a refused inbound SMS, the HTTP layer's) with
// what to do, in Swedish and English.
test('every error the simulator page can get says what to do', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  const own = [...read('../../src/sms/gw_sim.c').matchAll(/gw_answer_err\(c, \d+, "(\w+)"/g)].map((m) => m[1])
    .filter((c) => c !== 'not_found' && c !== 'method_not_allowed'); // the page calls neither
  const codes = [...own, 'no_such_entry_point', 'invalid', 'invalid_utf8', 'text_empty', 'text_too_long',
    'store_unavailable', 'too_large', 'no_simulator', 'other', 'offline'];
  for (const lang of ['sv', 'en']) {
    const d = JSON.parse(read(`../../web/sim/i18n/${lang}.json`));
    for (const c of codes) saysWhatToDo(d[`sim_err_${c}`], `web/sim/i18n/${lang}.json: sim_err_${c}`);
  }
});

// No server: the supervisor page (web/supervisor) says every error a
// supervisor can cause in the page's language with what to do: each core
// code its actions and forced states can meet, the API's own codes of
// /api/supervisor/ (a 401 is the session), and a lost connection; the
// server's English words never show for a known code.
test('every error the supervisor page can get reads in Swedish and English', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  const codes = [...read('../../src/core/cc.h').matchAll(/X\(\w+, \d+, "(\w+)"/g)].map((m) => m[1]);
  const api = [...read('../../src/api/api_supervisor.c').matchAll(/api__resp_error\(resp,\s*\d+, "(\w+)"/g)].map((m) => m[1]);
  assert.ok(api.includes('bad_request') && api.includes('not_found'), api.join());
  const keys = [...new Set([...codes, ...api, 'forbidden'])].map((c) => `err_${c}`).concat(['err_session', 'err_network']);
  for (const lang of ['sv', 'en']) {
    const d = JSON.parse(read(`../../web/supervisor/i18n/${lang}.json`));
    const missing = keys.filter((k) => !d[k]);
    assert.deepEqual(missing, [], `web/supervisor/i18n/${lang}.json lacks`);
    for (const k of keys) saysWhatToDo(d[k], `web/supervisor/i18n/${lang}.json: ${k}`);
  }
  const js = read('../../web/supervisor/supervisor.js');
  // one place words a refused request (errText), and never with the
  // server's English message: an unknown code reads as err_unknown
  assert.equal((js.match(/t\('err_unknown'/g) || []).length, 1, 'supervisor.js words errors outside errText');
  assert.doesNotMatch(js, /t\('error'|\bb\.message/, 'supervisor.js shows the server\'s message');
  for (const lang of ['sv', 'en']) assert.ok(JSON.parse(read(`../../web/supervisor/i18n/${lang}.json`)).err_unknown.includes('{code}'));
});

// No server: the reports page words each code of /api/reports/ (and a lost
// connection) in Swedish and English, like the supervisor page.
test('every error the reports page can get reads in Swedish and English', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  const api = [...read('../../src/api/api_report.c').matchAll(/api__resp_error\(resp,\s*\d+, "(\w+)"/g)].map((m) => m[1]);
  assert.ok(api.includes('bad_range') && api.includes('bad_time_zone'), api.join());
  // bad_setting: PUT /api/reports/settings, the admin page's (not this page's)
  const keys = [...new Set([...api.filter((c) => c !== 'bad_setting'), 'forbidden', 'not_logged_in', 'network'])].map((c) => `err_${c}`);
  for (const lang of ['sv', 'en']) {
    const d = JSON.parse(read(`../../web/reports/i18n/${lang}.json`));
    assert.deepEqual(keys.filter((k) => !d[k]), [], `web/reports/i18n/${lang}.json lacks`);
  }
  const js = read('../../web/reports/reports.js');
  assert.equal((js.match(/t\('err_unknown'/g) || []).length, 1, 'reports.js words errors outside errText');
  assert.doesNotMatch(js, /t\('error'|\bb\.message/, 'reports.js shows the server\'s message');
});

// No server: the admin page (web/admin: admin.js and its tabs) words every
// error its requests can get in Swedish and English with what to do: each
// field problem's code (docs/api.md, "Field problems", as the C sources set
// them: e_CODE), each error code of /api/admin/... (err_CODE: the admin
// API's, the tokens', webhooks' and privacy calls', the body parser's and
// the core's for a put or a removal), and it never shows the server's
// English "message" (an unknown code: err_unknown with the code).
test('every error the admin page can get reads in Swedish and English', () => {
  const read = (p) => readFileSync(fileURLToPath(new URL(p, import.meta.url)), 'utf8');
  const src = (f) => read(`../../src/${f}`);
  const fieldCodes = new Set([
    ...[...src('store/flow_json.c').matchAll(/FAILP?\("(\w+)"/g)].map((m) => m[1]),
    ...['store/entity_json.c', 'api/api_admin.c'].flatMap((f) =>
      [...src(f).matchAll(/entity_json_fail(?:_bounds)?\(\s*&?\w+,\s*[^,]+,\s*"(\w+)"/g)].map((m) => m[1])),
  ]);
  for (const c of ['required', 'range', 'span', 'taken', 'needs_account', 'same_queue', 'empty_texts', 'unknown_section'])
    assert.ok(fieldCodes.has(c), `the sources set ${c}: ${[...fieldCodes]}`);
  const docs = read('../../docs/api.md');
  const table = docs.slice(docs.indexOf('#### Field problems')).split('\n### ')[0];
  for (const c of fieldCodes) assert.ok(table.includes(`| \`${c}\` |`), `docs/api.md, "Field problems": ${c}`);
  const apiCodes = new Set([
    ...['api_admin.c', 'api_token.c', 'api_hooks.c', 'api_privacy.c'].flatMap((f) => [
      ...[...src(`api/${f}`).matchAll(/api__resp_error\(resp,\s*\d+, "(\w+)"/g)].map((m) => m[1]),
      ...[...src(`api/${f}`).matchAll(/(?:code = |hook_bad\(resp, j, |field_error\(resp, \d+, )"(\w+)"/g)].map((m) => m[1])]),
    ...[...src('api/api_parse.c').matchAll(/code = "(\w+)"/g)].map((m) => m[1]).filter((c) => c !== 'unknown_command'),
    'too_large', 'forbidden', 'not_logged_in', 'bad_setting', 'network',
    // the core's codes a put or a removal can meet (src/core/cc.c, cmd_config)
    'invalid', 'no_such_team', 'no_such_queue', 'no_such_reason', 'no_such_skill', 'no_such_agent', 'in_use', 'busy', 'limit', 'store_unavailable',
  ]);
  for (const c of ['bad_field', 'bad_config', 'bad_json', 'bad_name', 'bad_expiry', 'bad_url', 'bad_retention', 'name_taken'])
    assert.ok(apiCodes.has(c), `found ${c}: ${[...apiCodes]}`);
  for (const lang of ['sv', 'en']) {
    const d = JSON.parse(read(`../../web/admin/i18n/${lang}.json`));
    const missing = [...[...fieldCodes].filter((c) => !d[`e_${c}`] && !d[`err_${c}`]).map((c) => `e_${c}`),
      ...[...apiCodes].filter((c) => !d[`err_${c}`]).map((c) => `err_${c}`)];
    assert.deepEqual(missing, [], `web/admin/i18n/${lang}.json lacks`);
    assert.ok(d.err_unknown.includes('{code}'));
    assert.ok(d.e_range.includes('{min}') && d.e_range.includes('{max}'));
  }
  for (const f of ['admin.js', 'call.js', 'security.js', 'hooks.js', 'privacy.js'])
    assert.doesNotMatch(read(`../../web/admin/${f}`), /\.message\b|t\('error'/, `web/admin/${f} shows the server's message`);
});
