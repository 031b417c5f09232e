// Canned responses: the administrator defines them (Swedish and English),
// the agent types "/" at the start of the composer, filters, and inserts
// one with the keyboard, in the desk's language.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server } from './lib/server.mjs';
import { login as apiLogin, simSend, simInbox, until as untilApi } from './lib/client.mjs';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { login, waitText, visible, problems, until } from './lib/desk.mjs';

const EP = '+46700000001';
const server = new Server();
let browser;
after(async () => { if (browser) await browser.close(); server.cleanup(); });

test('canned responses: defined by the admin, inserted with "/"', async () => {
  const s = await server.start();
  const admin = await apiLogin(s.url, 'admin', 'demo-admin');
  const put = (id, body) => fetch(`${s.url}/api/admin/canned_responses/${id}`, {
    method: 'PUT', headers: { cookie: admin.cookie, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal((await put(1, { title: 'Faktura', text_sv: 'Fakturan skickas inom 3 dagar.', text_en: 'The invoice is sent within 3 days.' })).status, 200);
  assert.equal((await put(2, { title: 'Öppettider', text_sv: 'Vi har öppet 8–17.', text_en: 'We are open 8–17.' })).status, 200);
  const bad = await put(3, { title: 'X', text_sv: 'x', text_en: 'y', colour: 'red' });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).message, /^colour: unknown field/);
  const list = await (await fetch(`${s.url}/api/admin/canned_responses`, { headers: { cookie: admin.cookie } })).json();
  assert.deepEqual(list.canned_responses.map((c) => c.title), ['Faktura', 'Öppettider']);

  browser = await launch();
  const page = await agentPage(browser, s.url, { lang: 'sv' });
  await login(page, 'anna', 'demo-anna');
  await page.selectOption('#state-select', 'available');
  await page.locator('#state-dot.state-available').waitFor();
  await simSend(s.url, '+46701234567', EP, 'Hur lång tid tar fakturan?');
  await page.locator('.offer .accept').first().click({ timeout: 10000 });
  const ta = page.locator('#composer-text');
  await ta.waitFor();
  await ta.fill('');
  await ta.type('/fak');
  await waitText(page, '#canned-list li.active strong', 'Faktura');
  assert.equal(await page.locator('#canned-list li').count(), 1);
  await shot(page, 'sv-25-canned-picker');
  await ta.press('Enter');
  assert.equal(await ta.inputValue(), 'Fakturan skickas inom 3 dagar.');
  assert.equal(await visible(page, '#canned'), false);
  await ta.press('Enter'); // sends
  await untilApi(async () => (await simInbox(s.url, '+46701234567')).some((m) => m.text === 'Fakturan skickas inom 3 dagar.'));

  // English, arrow keys, Escape
  await page.locator('.lang-btn[data-lang="en"]:visible').click();
  await ta.type('/');
  await until(async () => (await page.locator('#canned-list li').count()) === 2);
  await ta.press('ArrowDown');
  await waitText(page, '#canned-list li.active strong', 'Öppettider');
  await ta.press('Escape');
  assert.equal(await visible(page, '#canned'), false);
  await ta.fill('');
  await ta.type('/open');
  await until(async () => (await page.locator('#canned-list li').count()) === 1);
  await waitText(page, '#canned-list li.active strong', 'Öppettider');
  await shot(page, 'en-25-canned-picker');
  await ta.press('Enter');
  assert.equal(await ta.inputValue(), 'We are open 8–17.');
  assert.deepEqual(problems(page), []);
  assert.equal((await s.stop()).code, 0, s.output);
});
