// The site every gateway test runs: one team, one queue (Kundtjänst), one
// entry point 'ep' routed through the one gateway 'gateway', and Anna
// (password pw-anna) logged in over the WebSocket and Available.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server } from './server.mjs';
import { Desk } from './client.mjs';

// Writes the site's configuration into 'dir', starts textdesk (on 'port'
// when given) and opens Anna's desk. Resolves with { server, anna }.
// 'epExtra' adds keys to the entry point (a flow), 'extra' top-level
// sections (wrap-up reasons, supervisors).
export async function startGatewaySite(dir, { ep, gateway, outbox, capacity, port, epExtra, extra }) {
  const config = path.join(dir, 'site.json');
  writeFileSync(config, JSON.stringify({
    ...(extra || {}),
    teams: [{ id: 1, name: 'Support' }],
    queues: [{ id: 1, name: 'Kundtjänst', teams: [1] }],
    entry_points: [{ id: 1, number: ep, queue: 1, gateway: gateway.id, ...(epExtra || {}) }],
    agents: [{ id: 1, name: 'Anna Berg', teams: [1], username: 'anna', password: 'pw-anna', ...(capacity ? { capacity } : {}) }],
    gateways: [gateway],
    outbox,
  }));
  const server = new Server({ args: ['--config', config] });
  if (port) server.port = port;
  await server.start();
  const anna = await Desk.open(server.url, 'anna', 'pw-anna');
  await anna.cmd('set_state', { state: 'available' });
  return { server, anna };
}

// Closes Anna's desk and stops textdesk, which must exit 0.
export async function stopGatewaySite({ server, anna }) {
  if (anna) await anna.close();
  if (!server) return;
  const st = await server.stop();
  server.cleanup();
  assert.equal(st.code, 0, `textdesk exit ${JSON.stringify(st)}:\n${server.output}`);
}

// The site behind a real Kannel (tests/peers/kannel/): Kannel started with
// its MO URL pointing at textdesk's Kannel endpoint (POST, with 'token'),
// the site's one gateway 'kannel1' sending through it. Resolves with
// { kannel, server, anna }; 'site' adds startGatewaySite's options.
export async function startKannelSite(dir, { Kannel, freePort, token, ep, ...site }) {
  const port = await freePort();
  const kannel = new Kannel({
    moMethod: 'post',
    moUrl: `http://127.0.0.1:${port}/api/gw/kannel/kannel1/mo?from=%p&to=%P&id=%I&coding=%c&charset=%C&token=${token}`,
  });
  try {
    await kannel.start();
    const { server, anna } = await startGatewaySite(dir, {
      ep,
      port,
      gateway: {
        id: 'kannel1', type: 'kannel', sendsms_url: kannel.sendsmsUrl, username: kannel.user,
        password: kannel.password, dlr_url_base: `http://127.0.0.1:${port}`, token,
      },
      outbox: { max_attempts: 1000, backoff_ms: 100, backoff_max_ms: 500 },
      ...site,
    });
    return { kannel, server, anna };
  } catch (e) { // nothing left running by a failed start
    await kannel.stop();
    kannel.cleanup();
    throw e;
  }
}
