// Debian's Chromium driven by playwright-core: one browser per test file,
// one context (own cookies and storage) per agent. Console errors and CSP
// violations are collected so tests can assert there were none.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repo } from './server.mjs';
import { checkScreen } from './a11y.mjs';

export const screensDir = path.join(repo, 'test-output', 'screens');
mkdirSync(screensDir, { recursive: true });

export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// launch() gives the browser a fresh temporary profile of its own (the
// user-data-dir), removed on close; each newContext is a clean slate.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ARGS,
  });
}

// A fresh context and page for one agent; 'lang' is stored before the
// page loads (the desktop remembers the choice in localStorage).
// 'init' (a function) runs in the page before its scripts, e.g. to shorten
// the desk's heartbeat.
// 'ctx' adds context options (colorScheme, reducedMotion, deviceScaleFactor).
export async function agentPage(browser, url, { lang, viewport = { width: 1280, height: 720 }, init, ctx: more = {} } = {}) {
  const ctx = await browser.newContext({ viewport, locale: 'sv-SE', ...more });
  if (lang) await ctx.addInitScript((l) => { if (!localStorage.getItem('textdesk.lang')) localStorage.setItem('textdesk.lang', l); }, lang);
  if (init) await ctx.addInitScript(init);
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) page.problems.push(`${m.text()} @ ${m.location()?.url || ''}`); });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  await page.goto(url + '/');
  return page;
}

// A screenshot of what the page shows now, then the checks every screen
// must pass (lib/a11y.mjs: no null/undefined/translation key on screen, no
// axe WCAG 2.1 A/AA violation). One axe run per screen reached.
export async function shot(page, name) {
  await page.screenshot({ path: path.join(screensDir, `${name}.png`) });
  await checkScreen(page, name);
}
