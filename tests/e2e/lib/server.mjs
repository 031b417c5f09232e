// Starts the real textdesk binary for a test: a fresh data directory (or,
// with opts.storeUrl, a PostgreSQL database: lib/pg.mjs), a free port on
// 127.0.0.1, stopped by PID. TEXTDESK_BIN names the binary (CTest passes the
// sanitizer build's); TEXTDESK_WEB the web directory. With
// TEXTDESK_E2E_STORE=postgresql every server without a store of its own gets
// a fresh database on one PostgreSQL cluster per test process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedPostgres } from './pg.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../..');
export const bin = process.env.TEXTDESK_BIN || path.join(repo, 'build/asan/textdesk');
export const webDir = process.env.TEXTDESK_WEB || path.join(repo, 'web');

// A free port on 127.0.0.1 for a server a test starts (tests/free_port.h is
// the C twin). It comes from below the kernel's ephemeral range, not from
// listen(0): a port listen(0) gave is an ephemeral one, and between its
// close and the server's listen any outgoing connection on the machine may
// take it as its local port (CI saw "Address already in use" for a port
// chosen while Kannel started and connected to its SMSC). Ports below the
// range are never given to outgoing connections; a random one is tried,
// and none is handed out twice by one test process.
const handedOut = new Set();

function ephemeralRange() {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch { /* not Linux: the usual range */ }
  return [32768, 60999];
}

function tryPort(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.unref();
    s.on('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const got = s.address().port;
      s.close(() => resolve(got));
    });
  });
}

export async function freePort() {
  const [lo, hi] = ephemeralRange();
  let [first, last] = [10000, lo - 1]; // below the range
  if (last - first < 1000) [first, last] = [hi + 1, 65535]; // or above it
  for (let i = 0; last - first >= 1000 && i < 200; i++) {
    const p = first + Math.floor(Math.random() * (last - first + 1));
    if (handedOut.has(p)) continue;
    if ((await tryPort(p)) === p) {
      handedOut.add(p);
      return p;
    }
  }
  for (;;) { // no room outside the range: the kernel's pick
    const p = await tryPort(0);
    if (p && !handedOut.has(p)) {
      handedOut.add(p);
      return p;
    }
  }
}

export class Server {
  constructor(opts = {}) {
    this.dataDir = opts.dataDir || mkdtempSync(path.join(os.tmpdir(), 'textdesk-e2e-'));
    this.ownsData = !opts.dataDir;
    this.args = opts.args || [];
    this.storeUrl = opts.storeUrl || null;
    this.env = opts.env || {};
    this.output = '';
  }

  // Starts textdesk; a port it chose itself and found taken (another test
  // process's server came first) is chosen again, up to three times. A
  // port given (a restart, a fixed one) is kept.
  async start() {
    for (let tries = 1; ; tries++) {
      const chosen = !this.port;
      try {
        return await this.startOnce();
      } catch (e) {
        if (!chosen || tries >= 3 || !this.output.includes('Address already in use')) throw e;
        this.port = null;
      }
    }
  }

  async startOnce() {
    if (!this.storeUrl && this.ownsData && process.env.TEXTDESK_E2E_STORE === 'postgresql')
      this.storeUrl = (await sharedPostgres()).createDatabase();
    this.output = '';
    this.port = this.port || (await freePort());
    this.url = `http://127.0.0.1:${this.port}`;
    const where = this.storeUrl ? ['--store', this.storeUrl] : ['--data', this.dataDir];
    this.proc = spawn(bin, ['serve', '--listen', `127.0.0.1:${this.port}`, ...where,
      '--web', webDir, ...this.args], {
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    // TEXTDESK_START_MS: more time to start (scripts/valgrind.sh)
    const deadline = Date.now() + Number(process.env.TEXTDESK_START_MS || 20000);
    while (!this.output.includes('listening on')) {
      if (this.proc.exitCode !== null) throw new Error(`textdesk exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`textdesk did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this;
  }

  // Graceful stop (SIGTERM); resolves with the exit status.
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return this.exited;
    process.kill(this.pid, 'SIGTERM');
    return this.exited;
  }

  async kill9() {
    process.kill(this.pid, 'SIGKILL');
    return this.exited;
  }

  cleanup() {
    if (this.proc && this.proc.exitCode === null) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (this.ownsData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
