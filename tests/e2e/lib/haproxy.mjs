// Real HAProxy from Debian in front of the nodes of a textdesk cluster
// (docs/operations.md, "High availability"): it health-checks
// /api/health, which answers 200 on the leader only, so clients (gateways,
// desktops) reach the leader. Bound to 127.0.0.1 on a free port, stopped by
// PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server.mjs';

export function haproxyConfig(port, backends) {
  return [
    'global', '  maxconn 1024',
    'defaults', '  mode http', '  timeout connect 300ms', '  timeout client 60s',
    '  timeout server 60s', '  timeout tunnel 1h', '  option redispatch 1', '  retries 1',
    'frontend web', `  bind 127.0.0.1:${port}`, '  option forwardfor', '  default_backend textdesk',
    'backend textdesk',
    '  option httpchk GET /api/health', '  http-check expect status 200',
    // down after two failed checks (a refused connection fails at once; a
    // frozen node after 1.5 s: a leader's loop may be busy for a moment,
    // hashing a password), up after one; a node's desktops are cut when it
    // stops leading: they reconnect to the new leader
    '  timeout check 1500ms',
    '  default-server inter 200ms fall 2 rise 1 on-marked-down shutdown-sessions',
    ...backends.map((p, i) => `  server node${i + 1} 127.0.0.1:${p} check`), '',
  ].join('\n');
}

export class Haproxy {
  async start(backends, port) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-haproxy-'));
    this.port = port || (await freePort());
    this.url = `http://127.0.0.1:${this.port}`;
    const cfg = path.join(this.dir, 'haproxy.cfg');
    writeFileSync(cfg, haproxyConfig(this.port, backends));
    this.proc = spawn('/usr/sbin/haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    // each line of HAProxy's own (server state changes) with the time it came
    const stamp = (d) => { this.output += String(d).replace(/^(?=.)/gm, `${new Date().toISOString()} `); };
    this.proc.stdout.on('data', stamp);
    this.proc.stderr.on('data', stamp);
    for (let i = 0; i < 200; i++) {
      if (this.proc.exitCode !== null) throw new Error(`haproxy exited: ${this.output}`);
      try {
        await fetch(`${this.url}/api/health`);
        return this;
      } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    throw new Error(`haproxy did not start: ${this.output}`);
  }

  stop() {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGKILL');
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
