// Starts the real textdesk binary for a test: a fresh data directory (or,
// with opts.storeUrl, a PostgreSQL database: lib/pg.mjs), a free port on
// 127.0.0.1, stopped by PID. TEXTDESK_BIN names the binary (CTest passes the
// sanitizer build's); TEXTDESK_WEB the web directory. With
// TEXTDESK_E2E_STORE=postgresql every server without a store of its own gets
// a fresh database on one PostgreSQL cluster per test process.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedPostgres } from './pg.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../../..');
export const bin = process.env.TEXTDESK_BIN || path.join(repo, 'build/asan/textdesk');
export const webDir = process.env.TEXTDESK_WEB || path.join(repo, 'web');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
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

  async start() {
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
