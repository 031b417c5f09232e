// The SMPP SMSC simulator (smsc_sim.pl beside this file, Perl Net::SMPP) for
// the end-to-end tests: started on free 127.0.0.1 ports with its own run
// directory, driven through its control port, read through its JSON-lines
// event log, stopped by PID. See README.md for the commands and the log.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../e2e/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCRIPT = path.join(here, 'smsc_sim.pl');

// Why the simulator cannot run here, or null.
export function smscMissing() {
  const r = spawnSync('perl', ['-MNet::SMPP', '-e', '1'], { stdio: 'ignore' });
  return r.status === 0 ? null
    : 'perl Net::SMPP is missing (scripts/deps.sh --test installs libnet-smpp-perl)';
}

export { freePort }; // one implementation: tests/e2e/lib/server.mjs

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Smsc {
  constructor(opts = {}) {
    this.systemId = opts.systemId || 'test';
    this.password = opts.password || 'secret';
    this.autoDlr = opts.autoDlr !== false;
    this.dlrDelay = opts.dlrDelay ?? 0.3;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-smsc-'));
    this.log = path.join(this.dir, 'events.jsonl');
    this.output = '';
  }

  async start() {
    this.port = await freePort();
    this.ctlPort = await freePort();
    this.proc = spawn('perl', [SCRIPT, '--port', String(this.port), '--ctl-port', String(this.ctlPort),
      '--system-id', this.systemId, '--password', this.password, '--log', this.log,
      this.autoDlr ? '--auto-dlr' : '--no-auto-dlr', '--dlr-delay', String(this.dlrDelay)],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    const end = Date.now() + 15000;
    while (!this.output.includes('"event":"listening"')) {
      if (this.proc.exitCode !== null) throw new Error(`smsc_sim exited:\n${this.output}`);
      if (Date.now() > end) throw new Error(`smsc_sim did not start:\n${this.output}`);
      await sleep(50);
    }
    return this;
  }

  // One control command; resolves with the reply line ("OK ..." / "ERR ...").
  ctl(cmd) {
    return new Promise((resolve, reject) => {
      const c = net.connect(this.ctlPort, '127.0.0.1');
      let buf = '';
      c.setEncoding('utf8');
      c.on('connect', () => c.write(`${cmd}\n`));
      c.on('data', (d) => {
        buf += d;
        const m = /^(OK|ERR)[^\n]*/m.exec(buf);
        if (m) { c.destroy(); resolve(m[0]); }
      });
      c.on('error', reject);
    });
  }

  async ok(cmd) {
    const r = await this.ctl(cmd);
    if (!r.startsWith('OK')) throw new Error(`smsc_sim ${cmd}: ${r}`);
    return r;
  }

  events(type) {
    if (!existsSync(this.log)) return [];
    const all = readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return type ? all.filter((e) => e.event === type) : all;
  }

  // submit_sm PDUs grouped into messages: by the UDH 05 00 03 reference
  // (and total, destination), or one PDU each without UDH. Each message:
  // {text, parts: [submit_sm events in arrival order], from, to, ids}.
  messages() {
    const out = [];
    const open = new Map();
    for (const e of this.events('submit_sm')) {
      if (e.status !== 0) continue; // refused (0x58...): the ESME sends it again
      const udh = e.udh_hex || '';
      if (!udh) {
        out.push({ text: e.text, parts: [e], from: e.source_addr, to: e.destination_addr, ids: [e.message_id] });
        continue;
      }
      const key = `${e.destination_addr}/${udh.slice(6, 8)}/${udh.slice(8, 10)}`;
      let m = open.get(key);
      if (!m || m.parts.length === m.total) {
        m = { parts: [], total: parseInt(udh.slice(8, 10), 16), from: e.source_addr, to: e.destination_addr };
        open.set(key, m);
        out.push(m);
      }
      m.parts.push(e);
    }
    for (const m of out) {
      if (!m.total) continue;
      const sorted = [...m.parts].sort((a, b) => parseInt(a.udh_hex.slice(10, 12), 16) - parseInt(b.udh_hex.slice(10, 12), 16));
      m.text = sorted.map((p) => p.text).join('');
      m.ids = sorted.map((p) => p.message_id);
    }
    return out;
  }

  async status() {
    const r = await this.ok('STATUS');
    const kv = {};
    for (const w of r.split(' ').slice(1)) { const [k, v] = w.split('='); kv[k] = v; }
    return kv;
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    process.kill(this.pid, 'SIGTERM');
    const t = setTimeout(() => { try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
    const st = await this.exited;
    clearTimeout(t);
    return st;
  }

  cleanup() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
    }
    if (!process.env.SMSC_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
