// Helpers for the desktop tests: the UI strings of each language (read
// from web/i18n so tests assert what an agent sees), a demo configuration
// with short timers, and small page helpers.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { webDir } from './server.mjs';

export function strings(lang) {
  const d = JSON.parse(readFileSync(path.join(webDir, 'i18n', `${lang}.json`), 'utf8'));
  return (key, vars) => {
    if (!(key in d)) throw new Error(`no string ${key}`);
    return d[key].replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  };
}

// The demo site, with Anna in both teams, a short RONA timeout and a short
// auto wrap-up on Sälj (entry point 71000) so both can be seen in a test.
// 'extra' adds top-level keys (e.g. admins and supervisors).
export function configFile(extra = {}) {
  const cfg = {
    settings: { disconnect_grace_s: 120 },
    teams: [{ id: 1, name: 'Support' }, { id: 2, name: 'Sälj' }],
    wrapup_reasons: [{ id: 1, name: 'Löst' }, { id: 2, name: 'Återkommer' }, { id: 3, name: 'Felaktigt nummer' }],
    idle_reasons: [{ id: 1, name: 'Lunch' }, { id: 2, name: 'Möte' }, { id: 3, name: 'Utbildning' }],
    queues: [
      { id: 1, name: 'Kundtjänst', teams: [1], rona_timeout_s: 120 },
      { id: 2, name: 'Sälj', teams: [2], rona_timeout_s: 3, auto_wrapup_s: 6, default_reason: 1, fallback: 1 },
    ],
    entry_points: [{ id: 1, number: '+46700000001', queue: 1 }, { id: 2, number: '71000', queue: 2 }],
    agents: [
      { id: 1, name: 'Anna Berg', teams: [1, 2], capacity: 3, username: 'anna', password: 'demo-anna' },
      { id: 2, name: 'Erik Lund', teams: [1], capacity: 3, username: 'erik', password: 'demo-erik' },
      { id: 3, name: 'Maja Ek', teams: [1, 2], capacity: 3, username: 'maja', password: 'demo-maja' },
    ],
  };
  const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'textdesk-cfg-')), 'site.json');
  writeFileSync(f, JSON.stringify({ ...cfg, ...extra }));
  return f;
}

export async function until(fn, ms = 8000, what = 'condition') {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function text(page, sel) {
  return (await page.locator(sel).first().textContent()) ?? '';
}

// Waits until the element's text equals (string) or matches (RegExp).
export async function waitText(page, sel, want, ms = 8000) {
  let got;
  await until(async () => {
    const loc = page.locator(sel).first();
    if (!(await loc.count())) return false;
    got = (await loc.textContent()) ?? '';
    return typeof want === 'string' ? got.trim() === want : want.test(got);
  }, ms, `${sel} to read ${want} (has "${got}")`);
  return got;
}

export async function visible(page, sel) {
  return page.locator(sel).first().isVisible();
}

export async function login(page, user, pass) {
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('#login-submit');
  await page.locator('#desk').waitFor({ state: 'visible' });
  await page.locator('#conn.online').waitFor({ state: 'attached' }); // in the menu on a phone
}

export async function bg(page, sel) {
  return page.locator(sel).first().evaluate((e) => getComputedStyle(e).backgroundColor);
}

// Problems in the console: CSP violations, script errors, failed requests.
// Allowed (each asserted on screen by the tests): the 401 of a wrong
// password (POST /api/login), a refused logout's 409, the 403 of a page the
// user has no role for, and the reconnect attempts Chromium logs while the
// server is being killed and restarted. A page's session check before
// login is no error (GET /api/session).
export function problems(page) {
  return page.problems.filter((p) => !/status of (401|429).* @ \S*\/api\/login$|status of 409.* @ \S*\/api\/logout$|status of 403|ERR_CONNECTION_(REFUSED|RESET)/.test(p));
}
