// Checks run on every screen a browser test reaches (called by shot()):
//  - screenText: nothing a person sees or hears reads null, undefined, NaN,
//    an unfilled {placeholder} or a translation key of web/**/i18n;
//  - axe: axe-core (npm) inside the page, failing on any violation of
//    WCAG 2.0/2.1 A and AA (tags wcag2a, wcag2aa, wcag21a, wcag21aa).
// axe is evaluated through the DevTools protocol, which the page's CSP
// (script-src 'self') does not govern, so the page's own policy stays on.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { webDir } from './server.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

// every key of every page's strings (desktop, admin, supervisor, simulator)
function i18nKeys() {
  const keys = new Set();
  const pages = readdirSync(webDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${d.name}/i18n`);
  for (const dir of ['i18n', ...pages]) {
    const d = path.join(webDir, dir);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith('.json')) for (const k of Object.keys(JSON.parse(readFileSync(path.join(d, f), 'utf8')))) keys.add(k);
  }
  return [...keys].filter((k) => k.includes('_')); // single words ("send") are ordinary words too
}
const KEYS = i18nKeys();

// What is on screen and what assistive technology reads: visible text, and
// the names, placeholders and values of visible elements.
export async function screenText(page) {
  return page.evaluate(() => {
    const out = [document.title];
    const seen = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    out.push(document.body.innerText);
    for (const e of document.querySelectorAll('[aria-label], [placeholder], [title], input, option, [aria-valuetext]')) {
      if (!seen(e) && e.tagName !== 'OPTION') continue;
      for (const a of ['aria-label', 'placeholder', 'aria-valuetext', 'title']) if (e.getAttribute(a)) out.push(e.getAttribute(a));
      if (e.tagName === 'INPUT' && !['hidden', 'password'].includes(e.type)) out.push(e.value);
      if (e.tagName === 'OPTION') out.push(e.textContent);
    }
    // live regions are read out even while visually hidden
    for (const e of document.querySelectorAll('[aria-live], [role=status], [role=alert]')) out.push(e.textContent);
    return out.join('\n');
  });
}

export function badText(s) {
  const found = [];
  for (const m of s.matchAll(/\b(null|undefined|NaN|\[object Object\])\b|\{[a-z_]+\}/g)) found.push(m[0]);
  const words = new Set(s.split(/[^\p{L}\p{N}_]+/u));
  for (const k of KEYS) if (words.has(k)) found.push(k);
  return found;
}

// The desktop leaves bubbles off screen unrendered (content-visibility:
// auto, docs/desktop.md "Performance"); what assistive technology reads of
// them is the same, but reading them one by one (getClientRects, axe's
// styles) renders each with a layout of the whole list: minutes for a
// 2,000-message transcript. 'f' runs with them all rendered (content-
// visibility set to visible on each, for the check only), then the page is
// given back as it was.
async function allRendered(page, f) {
  const n = await page.evaluate(() => {
    // all reads first: a read after a write would restyle the page each time
    const skipped = [...document.querySelectorAll('body *')].filter((e) => getComputedStyle(e).contentVisibility === 'auto');
    for (const e of skipped) {
      e.style.setProperty('content-visibility', 'visible');
      e.dataset.checkRendered = '';
    }
    return skipped.length;
  });
  try { return await f(); } finally {
    if (n) await page.evaluate(() => {
      for (const e of document.querySelectorAll('[data-check-rendered]')) { e.style.removeProperty('content-visibility'); delete e.dataset.checkRendered; }
    }).catch(() => {});
  }
}

export async function checkText(page, name) {
  const bad = badText(await allRendered(page, () => screenText(page)));
  if (bad.length) throw new Error(`${name}: the screen reads ${JSON.stringify([...new Set(bad)])}`);
}

export async function axe(page, name) {
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(AXE);
  const res = await allRendered(page, () => page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)}`) }));
  }, AXE_TAGS));
  if (res.length) throw new Error(`${name}: axe (${AXE_TAGS.join(', ')}) found:\n${res.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`).join('\n')}`);
}

// Both checks; shot() calls this after each screenshot.
// (A11Y_SOFT=1 prints the findings instead of failing: for a survey.)
export async function checkScreen(page, name) {
  for (const f of [checkText, axe]) {
    try { await f(page, name); } catch (e) { if (!process.env.A11Y_SOFT) throw e; console.log(`# A11Y ${e.message}`); }
  }
}
