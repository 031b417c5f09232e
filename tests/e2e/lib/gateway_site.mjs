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
