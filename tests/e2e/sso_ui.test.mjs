// Single sign-on in Debian's Chromium, the whole redirect flow: textdesk's
// login page -> "Logga in med SSO" -> the real OpenID provider's login and
// consent pages (npm oidc-provider on loopback, lib/oidc.mjs) -> back on
// /sso/ -> the agent desktop, for a new agent created on first sign-in
// (provisioning). Then a replayed return link: the error in Swedish and
// English, saying what to do. Screenshots in test-output/screens/ (sso-*),
// each checked with axe and for stray keys.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Server, freePort, webDir } from './lib/server.mjs';
import { fileURLToPath } from 'node:url';
import { launch, agentPage, shot } from './lib/browser.mjs';
import { configFile, strings, waitText } from './lib/desk.mjs';
import { OidcProvider } from './lib/oidc.mjs';
import { storeQuery } from './lib/pg.mjs';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });
const S = (lang) => JSON.parse(readFileSync(path.join(webDir, 'sso', 'i18n', `${lang}.json`), 'utf8'));

test('an agent new to textdesk signs in with SSO through the provider and lands on the desktop', async () => {
  const s = new Server();
  s.port = await freePort();
  const redirect = `http://127.0.0.1:${s.port}/sso/`;
  const op = await new OidcProvider({ users: { nora: ['td-agents'] }, redirect }).start();
  cleanup.push(() => op.stop());
  s.args = ['--config', configFile({
    sso: {
      issuer: op.issuer, client_id: op.clientId, client_secret: op.clientSecret, redirect_url: redirect,
      role_claim: 'groups', roles: { agent: 'td-agents', admin: 'td-admins' }, provision: true, agent_teams: [1],
    },
  })];
  await s.start();
  cleanup.push(async () => { await s.stop(); s.cleanup(); });
  const browser = await launch();
  cleanup.push(() => browser.close());

  const L = strings('sv');
  const page = await agentPage(browser, s.url, { lang: 'sv' });
  // the provider's dev pages ask for a web font: nothing leaves loopback
  await page.context().route(/^https:/, (r) => r.abort());
  const btn = page.locator('#sso-btn');
  await btn.waitFor({ state: 'visible' });
  assert.equal(await btn.textContent(), L('sso_btn'));
  await shot(page, 'sso-01-login-sv');

  await btn.click();
  await page.waitForURL((u) => u.href.startsWith(op.issuer), { waitUntil: 'commit' });
  await page.locator('input[name="login"]').fill('nora');
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.locator('button:has-text("Continue")').click(); // the provider's consent
  await page.waitForURL(`${s.url}/`, { waitUntil: 'commit' });
  await page.locator('#desk').waitFor({ state: 'visible' });
  await waitText(page, '#agent-name', 'nora');
  assert.equal(await page.locator('#login').isHidden(), true);
  await shot(page, 'sso-02-desktop-sv');
  assert.deepEqual(storeQuery(s, "SELECT username, role, agent FROM accounts WHERE username = 'nora'"), ['nora|0|4'],
    'nora was created as agent 4 on her first sign-in');
  // the provider's pages (not ours) ask for a web font, refused above
  assert.deepEqual(page.problems.filter((p) => !p.includes('fonts.googleapis.com')), []);

  // the return link again (a back button, a bookmark): refused, and said
  // in the user's language; the administrators' page offers SSO too
  for (const lang of ['sv', 'en']) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await ctx.addInitScript((l) => localStorage.setItem('textdesk.lang', l), lang);
    const p = await ctx.newPage();
    await p.goto(`${s.url}/sso/?code=used&state=${'A'.repeat(43)}`);
    await waitText(p, '#login-error', S(lang).sso_err_sso_state_unknown);
    assert.equal(await p.locator('#sso-status').textContent(), S(lang).sso_failed);
    assert.equal(await p.locator('#sso-back').isVisible(), true);
    if (lang === 'sv') await shot(p, 'sso-03-replayed-sv'); // English: the same layout, text asserted
    await p.goto(`${s.url}/admin/`);
    await p.locator('#sso-btn').waitFor({ state: 'visible' });
    assert.equal(await p.locator('#sso-btn').textContent(), S(lang).sso_btn);
    await ctx.close();
  }
});

// No browser: every error code docs/api.md gives for /api/sso/* has its own
// message on /sso/ in both languages, or is one of the few a user cannot
// act on (a forged or misissued token: the generic message, with the code
// for the administrator); the login pages explain what the button can get
test('every single sign-on error a user can meet is explained in Swedish and English', () => {
  const api = readFileSync(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8');
  const codes = new Set(api.slice(api.indexOf('### Single sign-on'), api.indexOf('### `POST /api/logout`')).match(/\bsso_[a-z_]+/g));
  const generic = ['sso_token_too_large', 'sso_bad_token', 'sso_bad_signature', 'sso_unknown_key', 'sso_wrong_issuer',
    'sso_wrong_audience', 'sso_wrong_nonce', 'sso_claim_too_large', 'sso_misconfigured'];
  assert.ok(codes.size >= 20, [...codes].join());
  for (const lang of ['sv', 'en']) {
    const sso = S(lang);
    for (const c of codes) if (!generic.includes(c)) assert.ok(sso[`sso_err_${c}`], `${lang} /sso/: ${c}`);
    for (const page of ['i18n', 'admin/i18n', 'supervisor/i18n', 'reports/i18n']) {
      const d = JSON.parse(readFileSync(path.join(webDir, page, `${lang}.json`), 'utf8'));
      for (const c of ['sso_off', 'sso_unavailable', 'sso_busy']) assert.ok(d[`sso_err_${c}`], `${lang} ${page}: ${c}`);
      assert.match(d.login_wait, /\{s\}/, `${lang} ${page}: a throttled login says how long to wait`);
    }
  }
});
