// A page whose scripts did not all load (web/js/boot.js). Behind a load
// balancer, a request of a page being loaded can be refused ("503 No server
// is available", HAProxy's own page, while no node is marked up) or cut
// (the node serving it stops leading: its sockets close) during a takeover
// (docs/operations.md, "High availability"). One such module or dictionary
// left the desktop, supervisor, admin and reports pages blank for good:
// login and page both hidden, nothing said (e2e_ha once timed out so on the
// supervisor's login, its page loaded during a takeover). Now the page says
// so in a line and loads again, and the login shows. And a page signed in
// whose start then met no leader showed its login card again, as if it had
// no session; now it says so and starts again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server } from './lib/server.mjs';
import { launch, screensDir, shot } from './lib/browser.mjs';
import { configFile } from './lib/desk.mjs';

const HAPROXY_503 = '<html><body><h1>503 Service Unavailable</h1>\n'
  + 'No server is available to handle this request.\n</body></html>\n';
let browser; let s;
after(async () => { await browser?.close(); s?.cleanup(); });

test('a module or dictionary refused or cut while a page loads, or its start refused after the login: the page says so and tries again', { timeout: 120000 }, async () => {
  s = await new Server({ args: ['--config', configFile({
    admins: [{ username: 'admin', password: 'demo-admin' }],
    supervisors: [{ username: 'lena', password: 'demo-lena' }],
  })] }).start();
  browser = await launch();
  // [page, the request that fails the first time, how, language chosen]
  const cases = [
    ['/', '/js/i18n.js', '503', null],
    ['/supervisor/', '/js/util.js', 'cut', null],
    ['/admin/', '/admin/i18n/en.json', 'cut', 'en'],
    ['/reports/', '/reports/i18n/sv.json', '503', null],
  ];
  for (const [page, failing, how, lang] of cases) {
    const ctx = await browser.newContext({ locale: 'sv-SE' });
    if (lang) await ctx.addInitScript((l) => localStorage.setItem('textdesk.lang', l), lang);
    const p = await ctx.newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    let failed = 0; let loads = 0;
    p.on('load', () => { loads++; });
    await p.route((u) => new URL(u).pathname === failing, (r) => {
      if (failed++) return r.continue();
      return how === 'cut' ? r.abort('connectionreset')
        : r.fulfill({ status: 503, contentType: 'text/html', body: HAPROXY_503 });
    });
    const name = `page-load-${page.replace(/\//g, '') || 'desktop'}`;
    await p.goto(s.url + page);
    // the line, in the language chosen before (or Swedish)
    const line = p.locator('#boot-error');
    await line.waitFor({ timeout: 10000 });
    assert.equal(await line.getAttribute('role'), 'alert');
    assert.match(await line.innerText(), lang === 'en' ? /did not load completely.*reload/ : /kunde inte laddas helt.*laddas om/);
    await p.screenshot({ path: path.join(screensDir, `${name}-reloading.png`) });
    // then the page again, whole: its login, the line gone
    await p.locator('#login-user').waitFor({ state: 'visible', timeout: 15000 });
    assert.equal(failed >= 2, true, `${page}: ${failing} asked again`);
    assert.equal(await line.count(), 0);
    assert.ok(loads >= 2, `${page}: loaded again (${loads})`);
    assert.deepEqual(errors, [], `${page}: nothing left unhandled`);
    await p.screenshot({ path: path.join(screensDir, `${name}-reloaded.png`) });
    await ctx.close();
  }
  // signed in, then the page's start meets no leader (a standby's 503:
  // its login hashed long enough to depose the node, e2e_ha): it says so
  // on the login card and starts again; the session it took is kept
  for (const [page, user, pass, first, shown] of [
    ['/supervisor/', 'lena', 'demo-lena', '/api/session', '#app'],
    ['/admin/', 'admin', 'demo-admin', '/api/admin/settings', '#app'],
  ]) {
    const p = await (await browser.newContext()).newPage();
    const errors = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(s.url + page);
    await p.locator('#login-user').waitFor();
    let refused = 0;
    await p.route((u) => new URL(u).pathname === first, (r) => {
      if (refused++) return r.continue();
      return r.fulfill({ status: 503, contentType: 'application/json',
        body: JSON.stringify({ error: 'standby', message: 'node b is a standby; the leader is a: try again' }) });
    });
    await p.fill('#login-user', user);
    await p.fill('#login-pass', pass);
    await p.click('#login-submit');
    await p.locator('#login-error', { hasText: 'Servern svarar inte just nu. Sidan försöker igen strax.' }).waitFor({ timeout: 10000 });
    await p.screenshot({ path: path.join(screensDir, `page-load-${page.replace(/\//g, '')}-start-retry.png`) });
    await p.locator(shown).waitFor({ timeout: 15000 });
    assert.equal(await p.locator('#login').isVisible(), false);
    assert.ok(refused >= 2, `${page}: ${first} asked again`);
    assert.deepEqual(errors, []);
    await p.context().close();
  }
  // a page that loads whole never reloads: the login shows, no line
  const p = await (await browser.newContext()).newPage();
  let loads = 0;
  p.on('load', () => { loads++; });
  await p.goto(`${s.url}/supervisor/`);
  await p.locator('#login-user').waitFor({ state: 'visible' });
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(loads, 1);
  assert.equal(await p.locator('#boot-error').count(), 0);
});

// A path that names nothing outside /api: a page, not lws's English
// "<h1>404</h1>" (before), in the reader's language (Swedish, the site's
// default; English when Accept-Language ranks it first; the language
// chosen on the desktop wins), saying what to do with a link to the
// desktop and its login.
test('the 404 page reads in the reader\'s language and leads back to the desktop', { timeout: 60000 }, async () => {
  s ??= await new Server().start();
  browser ??= await launch();
  for (const [p, al, lang] of [['/nothing', undefined, 'sv'], ['/admin/nothing.html', 'en-GB,en;q=0.9,sv;q=0.8', 'en'],
    ['/sim/x', 'de, sv;q=0.5', 'sv'], ['/x', 'sv, en;q=0.9', 'sv']]) {
    const r = await fetch(s.url + p, { headers: al ? { 'accept-language': al } : {} });
    assert.equal(r.status, 404, p);
    assert.match(r.headers.get('content-type'), /^text\/html/, p);
    const html = await r.text();
    assert.match(html, new RegExp(`<html lang="${lang}">`), `${p} ${al}`);
    assert.match(html, lang === 'sv' ? /<title>Sidan finns inte/ : /<title>Page not found/, `${p} ${al}`);
  }
  assert.equal((await fetch(`${s.url}/api/nothing`)).headers.get('content-type'), 'application/json');
  assert.equal((await fetch(`${s.url}/js/app.js`)).status, 200);
  for (const [locale, stored, want] of [['sv-SE', null, /Sidan finns inte.*kontrollera adressen/s],
    ['en-US', null, /Page not found.*check the address/s], ['en-US', 'sv', /Sidan finns inte/],
    ['sv-SE', 'en', /Page not found/]]) {
    const ctx = await browser.newContext({ locale, viewport: { width: 390, height: 700 } });
    if (stored) await ctx.addInitScript((l) => localStorage.setItem('textdesk.lang', l), stored);
    const page = await ctx.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error' && !/404/.test(m.text())) problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${s.url}/nowhere`);
    await page.waitForLoadState('networkidle');
    const text = await page.locator('main').innerText();
    assert.match(text, want, `${locale} ${stored}: ${text}`);
    assert.equal(await page.locator('html').getAttribute('lang'), String(want).includes('Sidan') ? 'sv' : 'en');
    if (!stored) await shot(page, `not-found-${locale}`); // axe on each language once
    const link = page.locator('a:visible');
    assert.equal(await link.count(), 1);
    await link.click();
    await page.locator('#login-user').waitFor({ state: 'visible' });
    assert.deepEqual(problems, []);
    await ctx.close();
  }
});
