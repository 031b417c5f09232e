import { launch, agentPage } from './lib/browser.mjs';
const b = await launch();
const url = 'http://127.0.0.1:18931';
for (let k = 0; k < 2; k++) {
const t0 = Date.now();
const page = await agentPage(b, url, { lang: 'sv' });
const t1 = Date.now();
page.on('request', (r) => console.log('req', Date.now() - t1, r.method(), r.url()));
page.on('requestfinished', (r) => console.log('fin', Date.now() - t1, r.url()));
page.on('websocket', (w) => console.log('ws', Date.now() - t1, w.url()));
await page.fill('#login-user', 'anna');
await page.fill('#login-pass', 'demo-anna');
console.log('filled', Date.now() - t1);
await page.click('#login-submit');
console.log('clicked', Date.now() - t1);
await page.locator('#desk').waitFor({ state: 'visible' });
console.log('desk', Date.now() - t1);
await page.locator('#conn.online').waitFor({ state: 'attached' });
console.log('online', Date.now() - t1, 'goto', t1 - t0);
await page.context().close();
}
await b.close();
