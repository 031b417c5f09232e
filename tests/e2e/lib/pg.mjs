// A real PostgreSQL 15 for end-to-end tests: scripts/pgtest.sh (initdb +
// pg_ctl as the `postgres` user in a temporary folder, 127.0.0.1 on a free
// port, stopped by PID), one database per server. Also the one way tests
// look into a store, whichever it is (storeQuery).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const script = path.join(repo, 'scripts/pgtest.sh');
const psqlBin = '/usr/lib/postgresql/15/bin/psql';

export class Postgres {
  async start() {
    const base = mkdtempSync(path.join(os.tmpdir(), 'textdesk-pg-'));
    rmSync(base, { recursive: true, force: true }); // pgtest.sh makes it, owned by postgres
    this.dir = base;
    this.url = execFileSync('sh', [script, 'start', this.dir], { encoding: 'utf8' }).trim();
    this.base = this.url.replace(/\/[^/]*$/, '/');
    this.ndb = 0;
    return this;
  }

  pid() {
    return Number(execFileSync('sh', [script, 'pid', this.dir], { encoding: 'utf8' }).trim());
  }

  // A fresh database; returns its URL.
  createDatabase(name = `td_${process.pid}_${++this.ndb}`) {
    psql(this.url, `CREATE DATABASE ${name}`);
    return this.base + name;
  }

  // Stops the cluster and starts it again listening on 'port' (the
  // database moved to another address); its URLs follow.
  move(port) {
    this.ctl('stop', '-m', 'fast');
    const old = this.url.match(/:(\d+)\//)[1];
    this.url = this.url.replace(`:${old}/`, `:${port}/`);
    this.base = this.base.replace(`:${old}/`, `:${port}/`);
    this.ctl('start');
  }

  // pg_ctl as the cluster's owner: 'stop -m fast', 'start', 'restart -m fast'.
  ctl(...args) {
    const pgctl = '/usr/lib/postgresql/15/bin/pg_ctl';
    const port = this.url.match(/:(\d+)\//)[1];
    const opts = ['-D', path.join(this.dir, 'data'), '-l', path.join(this.dir, 'log'), '-w',
      '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${this.dir} -c max_connections=200`];
    const argv = process.getuid() === 0 ? ['runuser', '-u', 'postgres', '--', pgctl, ...opts, ...args]
      : [pgctl, ...opts, ...args];
    execFileSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  }

  stop() {
    if (this.dir) execFileSync('sh', [script, 'stop', this.dir], { stdio: 'ignore' });
    this.dir = null;
  }
}

// The cluster of this process, started on first use and stopped when the
// process exits (TEXTDESK_E2E_STORE=postgresql: every Server gets a database
// of its own on it; lib/server.mjs).
let shared = null;
export async function sharedPostgres() {
  if (!shared) {
    shared = await new Postgres().start();
    process.on('exit', () => shared.stop());
  }
  return shared;
}

export function psql(url, sql) {
  return execFileSync(psqlBin, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { encoding: 'utf8' });
}

// Rows of 'sql' (columns joined by '|'), from the server's store: its
// PostgreSQL database or its SQLite file.
export function storeQuery(server, sql) {
  const out = server.storeUrl
    ? psql(server.storeUrl, sql)
    : execFileSync('sqlite3', ['-readonly', path.join(server.dataDir, 'textdesk.db'), sql],
      { encoding: 'utf8' });
  return out.split('\n').filter(Boolean);
}
