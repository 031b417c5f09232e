// A real Kannel 1.4.5 (Debian's kannel + kannel-extras) on 127.0.0.1 for
// the tests: bearerbox, smsbox, a fakesmsc "handset" that prints every MT,
// and MO injection through a short-lived fakesmsc. Free ports, its own run
// directory, processes stopped by PID only. Written from what Kannel was
// observed to send and expect (docs/gateways/kannel.md).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../e2e/lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BEARERBOX = '/usr/sbin/bearerbox';
export const SMSBOX = '/usr/sbin/smsbox';
export const FAKESMSC = '/usr/lib/kannel/test/fakesmsc';

// Why Kannel cannot run here, or null.
export function kannelMissing() {
  for (const f of [BEARERBOX, SMSBOX, FAKESMSC]) {
    if (!existsSync(f)) return `${f} not installed (scripts/deps.sh --test installs kannel kannel-extras)`;
  }
  return null;
}

export { freePort }; // one implementation: tests/e2e/lib/server.mjs

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitPort(port, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open`);
    await sleep(100);
  }
}

function stopProc(p, ms = 5000) {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }, ms);
    p.once('exit', () => { clearTimeout(t); resolve(); });
    try { process.kill(p.pid, 'SIGTERM'); } catch { clearTimeout(t); resolve(); }
  });
}

// One "Got message" line of fakesmsc: <from to type [udh HEX] data>.
// Returns {from, to, udh (Buffer|null), coding ('text'|'data'|'ucs2'), bytes (Buffer)}.
export function parseMtLine(line) {
  const m = /Got message \d+: <(.*)>\s*$/.exec(line);
  if (!m) return null;
  const body = m[1];
  const parts = body.split(' ');
  const [from, to, type] = parts;
  let rest = parts.slice(3).join(' ');
  let udh = null;
  let coding = type;
  if (type === 'udh') {
    const sp = rest.indexOf(' ');
    udh = pctBytes(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
    const sp2 = rest.indexOf(' ');
    coding = rest.slice(0, sp2);
    rest = rest.slice(sp2 + 1);
  }
  const bytes = coding === 'text' ? Buffer.from(rest, 'utf8') : pctBytes(rest);
  return { from, to, udh, coding, bytes };
}

// %-encoded bytes ('+' = space) to a Buffer.
function pctBytes(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '%') { out.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; } else if (c === '+') out.push(32);
    else out.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(out);
}

export class Kannel {
  // moUrl: Kannel's get-url/post-url (escapes like %p are Kannel's).
  constructor(opts = {}) {
    this.moUrl = opts.moUrl;
    this.moMethod = opts.moMethod || 'post';
    this.httpRetry = opts.httpRetry ?? 0;
    this.user = opts.user || 'textdesk';
    this.password = opts.password || 'sendsms-secret';
    this.procs = {};
  }

  async start() {
    const missing = kannelMissing();
    if (missing) throw new Error(missing);
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'textdesk-kannel-'));
    this.ports = {
      ADMIN_PORT: await freePort(), SMSBOX_PORT: await freePort(), SENDSMS_PORT: await freePort(),
      FAKE_MT_PORT: await freePort(), FAKE_MO_PORT: await freePort(),
    };
    const vars = {
      ...this.ports, RUN_DIR: this.dir, ADMIN_PASSWORD: 'adminpw', SENDSMS_USER: this.user,
      SENDSMS_PASSWORD: this.password, HTTP_RETRY: String(this.httpRetry),
      MO_URL_LINE: `${this.moMethod}-url = "${this.moUrl}"`,
    };
    let conf = readFileSync(path.join(here, 'kannel.conf.in'), 'utf8');
    conf = conf.replace(/@([A-Z_]+)@/g, (_, k) => {
      if (!(k in vars)) throw new Error(`kannel.conf.in: no value for @${k}@`);
      return vars[k];
    });
    this.conf = path.join(this.dir, 'kannel.conf');
    writeFileSync(this.conf, conf);
    this.sendsmsUrl = `http://127.0.0.1:${this.ports.SENDSMS_PORT}/cgi-bin/sendsms`;
    this.procs.bearerbox = this.spawn('bearerbox', BEARERBOX, [this.conf]);
    await waitPort(this.ports.ADMIN_PORT);
    await this.startSmsbox();
    this.mtOut = '';
    this.procs.fakesmsc = this.spawn('fakesmsc', FAKESMSC,
      ['-H', '127.0.0.1', '-r', String(this.ports.FAKE_MT_PORT), '-m', '0', '0 0 text unused'],
      (d) => { this.mtOut += d; });
    await this.until(async () => /carrier.*online/.test(await this.status()), 20000, 'carrier link online');
    return this;
  }

  spawn(name, bin, args, onOut) {
    const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dir });
    p.out = '';
    p.stdout.on('data', (d) => { p.out += d; if (onOut) onOut(d.toString()); });
    p.stderr.on('data', (d) => { p.out += d; if (onOut) onOut(d.toString()); });
    return p;
  }

  async status() {
    try {
      const r = await fetch(`http://127.0.0.1:${this.ports.ADMIN_PORT}/status.txt?password=adminpw`);
      return await r.text();
    } catch { return ''; }
  }

  async until(fn, ms, what) {
    const end = Date.now() + ms;
    for (;;) {
      if (await fn()) return;
      if (Date.now() > end) throw new Error(`kannel: timed out waiting for ${what}; logs in ${this.dir}`);
      await sleep(100);
    }
  }

  // smsbox opens its sendsms port before it has connected to bearerbox, and
  // a sendsms request in that window makes it PANIC (gwlib/conn.c lock_out:
  // `conn != NULL`; Kannel 1.4.5) -- which textdesk's retries hit when smsbox
  // comes back under load. As its service manager would (systemd
  // Restart=on-failure), the harness starts it again, and counts it
  // (smsboxRestarts). It holds no MO in that window: it is not connected.
  // smsbox 1.4.5 also dies by itself under load at other moments (seen:
  // conn_unregister when textdesk is SIGKILLed with MO requests open), with
  // MOs in its hands: it acknowledged them to bearerbox when it took them
  // and kept its retries in memory, so those are lost by Kannel. Such a
  // process's pid is kept (smsboxCrashed) so that the soak can tell them
  // from MOs lost by textdesk (lostByKannel).
  async startSmsbox() {
    const p = this.spawn('smsbox', SMSBOX, [this.conf]);
    this.procs.smsbox = p;
    p.on('exit', () => {
      if (p.stopping || this.procs.smsbox !== p || this.closing) return;
      this.smsboxRestarts = (this.smsboxRestarts || 0) + 1;
      (this.smsboxCrashed ||= new Set()).add(p.pid);
      setTimeout(() => {
        if (this.procs.smsbox === p && !this.closing) this.startSmsbox().catch(() => {});
      }, 300);
    });
    await waitPort(this.ports.SENDSMS_PORT);
  }

  // Of the MO texts 'texts' (textdesk does not have them): those whose last
  // taker was an smsbox that then died by itself, going by smsbox.log's
  // "Starting to service <TEXT>" lines and their pid. An MO another smsbox
  // took after it, or that no smsbox took, is not among them.
  lostByKannel(texts) {
    if (!this.smsboxCrashed?.size) return [];
    let log = '';
    try { log = readFileSync(path.join(this.dir, 'smsbox.log'), 'latin1'); } catch { return []; }
    const taker = new Map();
    const re = /^\S+ \S+ \[(\d+)\] \[\d+\] INFO: Starting to service <(.*)> from </;
    for (const line of log.split('\n')) {
      const m = re.exec(line);
      if (m) taker.set(m[2], Number(m[1]));
    }
    return texts.filter((t) => this.smsboxCrashed.has(taker.get(t)));
  }

  // "Kannel down": smsbox (the sendsms HTTP interface) stops; bearerbox stays.
  async stopSmsbox() {
    if (this.procs.smsbox) this.procs.smsbox.stopping = true;
    await stopProc(this.procs.smsbox);
    this.procs.smsbox = null;
  }

  // One MO as if the carrier delivered it (fakesmsc: text = UTF-8 as is,
  // ucs2 = UTF-16BE, coding 2).
  async injectMo(from, to, text, type = 'text') {
    const msg = type === 'ucs2' ? `${from} ${to} ucs2 ${pctUcs2(text)}` : `${from} ${to} text ${text}`;
    const p = this.spawn('fakesmsc-mo', FAKESMSC, ['-H', '127.0.0.1', '-r', String(this.ports.FAKE_MO_PORT), '-m', '1', msg]);
    const end = Date.now() + 5000;
    while (!/sent|Sent/.test(p.out) && Date.now() < end && p.exitCode === null) await sleep(50);
    await sleep(500); // bearerbox reads the line before the link drops
    await stopProc(p);
  }

  // Every MT fakesmsc received, parsed.
  mt() {
    return this.mtOut.split('\n').map(parseMtLine).filter(Boolean);
  }

  // bearerbox's own record of each MT it handed to an SMSC (the "Sent SMS"
  // lines of its access log): [{to, coding, udh (hex), bytes (Buffer, or
  // null when Kannel logged text)}]. Kannel logs a message it split itself
  // once, whole, with its coding; a message sent with our udh, once per part.
  sentLog() {
    let log = '';
    try { log = readFileSync(path.join(this.dir, 'bearerbox-access.log'), 'latin1'); } catch { return []; }
    const out = [];
    const re = /Sent SMS .*\[to:([^\]]*)\] \[flags:-?\d+:(-?\d+):[^\]]*\] \[msg:\d+:(.*)\] \[udh:\d+:([0-9A-Fa-f]*)\]\s*$/;
    for (const line of log.split('\n')) {
      const m = re.exec(line);
      if (!m) continue;
      const coding = Number(m[2]);
      const hex = coding === 1 || coding === 2;
      out.push({ to: m[1], coding, udh: m[4], bytes: hex ? Buffer.from(m[3], 'hex') : null });
    }
    return out;
  }

  // The coding of one fakesmsc line. fakesmsc labels every part that has a
  // UDH "data", whatever its coding: UCS-2 parts carry UTF-16BE, GSM parts
  // Kannel's UTF-8 text. The coding is taken from bearerbox's access log:
  // a part is UCS-2 when a coding-2 message to the same number holds its
  // bytes (at a UTF-16 boundary).
  partCoding(m, sent) {
    if (!m.udh) return m.coding === 'ucs-2' || m.coding === 'ucs2' ? 'ucs2' : 'gsm';
    for (const s of sent) {
      if (s.to !== m.to || s.coding !== 2 || !s.bytes) continue;
      for (let at = s.bytes.indexOf(m.bytes); at >= 0; at = s.bytes.indexOf(m.bytes, at + 1)) {
        if (at % 2 === 0) return 'ucs2';
      }
    }
    return 'gsm';
  }

  // MT reassembled into messages: [{from, to, text, parts, partTexts}], in
  // arrival order. Each part is decoded ON ITS OWN, as a handset must be
  // able to: a surrogate pair (or a UTF-8 sequence) cut between two parts
  // shows as U+FFFD, so the text no longer matches what was sent.
  mtMessages() {
    const out = [];
    const pending = new Map();
    const sent = this.sentLog();
    for (const m of this.mt()) {
      const t = decodePart(m.bytes, this.partCoding(m, sent));
      if (!m.udh || m.udh.length < 6 || m.udh[1] !== 0) {
        out.push({ from: m.from, to: m.to, text: t, parts: 1, partTexts: [t] });
        continue;
      }
      const [ref, total, seq] = [m.udh[3], m.udh[4], m.udh[5]];
      const key = `${m.from}|${m.to}|${ref}|${total}`;
      if (!pending.has(key)) pending.set(key, { from: m.from, to: m.to, parts: new Array(total) });
      const p = pending.get(key);
      p.parts[seq - 1] = t;
      if (p.parts.filter((x) => x !== undefined).length === total) {
        pending.delete(key);
        out.push({ from: p.from, to: p.to, text: p.parts.join(''), parts: total, partTexts: p.parts });
      }
    }
    return out;
  }

  async stop() {
    this.closing = true;
    for (const name of ['fakesmsc', 'smsbox', 'bearerbox']) {
      await stopProc(this.procs[name]);
      this.procs[name] = null;
    }
  }

  cleanup() {
    this.closing = true;
    for (const p of Object.values(this.procs)) {
      if (p && p.exitCode === null) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    if (this.dir && !process.env.KEEP_KANNEL) rmSync(this.dir, { recursive: true, force: true });
  }
}

// One part's bytes as text: UTF-16BE (ucs2) or UTF-8 (gsm: Kannel keeps 7-bit
// text as UTF-8). Never joins anything across parts; bad sequences and lone
// surrogates become U+FFFD.
function decodePart(b, coding) {
  if (coding !== 'ucs2') return new TextDecoder('utf-8').decode(b);
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) {
    const u = b.readUInt16BE(i);
    if (u >= 0xd800 && u < 0xdc00 && i + 3 < b.length) {
      const lo = b.readUInt16BE(i + 2);
      if (lo >= 0xdc00 && lo < 0xe000) { s += String.fromCharCode(u, lo); i += 2; continue; }
    }
    s += u >= 0xd800 && u < 0xe000 ? '\ufffd' : String.fromCharCode(u);
  }
  if (b.length % 2) s += '\ufffd';
  return s;
}

// UTF-16BE bytes of 'text', %-encoded (fakesmsc's ucs2 payload).
function pctUcs2(text) {
  const b = Buffer.from(text, 'utf16le').swap16();
  return [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('');
}
