// A real protocol client: REST login with the session cookie, then the
// agent WebSocket, with helpers to send commands and wait for events.
import WebSocket from 'ws';

export async function login(url, username, password) {
  const r = await fetch(`${url}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await r.json();
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  return { status: r.status, body, cookie, setCookie: r.headers.get('set-cookie') };
}

export class Desk {
  static async open(url, username, password, opts = {}) {
    const l = await login(url, username, password);
    if (l.status !== 200) throw new Error(`login ${username}: ${l.status} ${JSON.stringify(l.body)}`);
    const d = new Desk(url, l.cookie, opts);
    await d.connect();
    return d;
  }

  constructor(url, cookie, opts = {}) {
    this.url = url;
    this.cookie = cookie;
    this.origin = opts.origin || url;
    this.events = [];
    this.frames = []; // every frame received, as text
    this.waiters = [];
    this.nextId = 1;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url.replace('http', 'ws') + '/ws', {
        headers: { cookie: this.cookie, origin: this.origin },
      });
      this.ws = ws;
      ws.on('message', (data) => {
        this.frames.push(data.toString());
        const ev = JSON.parse(data.toString());
        this.events.push(ev);
        this.waiters = this.waiters.filter((w) => !w(ev));
      });
      ws.on('unexpected-response', (req, res) => reject(new Error(`ws refused: ${res.statusCode}`)));
      ws.on('error', reject);
      this.closed = new Promise((r) => ws.on('close', (code) => r(code)));
      this.wait((e) => e.type === 'snapshot', 10000).then((s) => { this.snapshot = s; resolve(this); }, reject);
    });
  }

  // Resolves with the first event (already received or future) matching 'pred'.
  wait(pred, ms = 5000) {
    const seen = this.events.find(pred);
    if (seen) { this.events.splice(this.events.indexOf(seen), 1); return Promise.resolve(seen); }
    return new Promise((resolve, reject) => {
      const waiter = (ev) => {
        if (!pred(ev)) return false;
        clearTimeout(t);
        this.events.splice(this.events.indexOf(ev), 1);
        resolve(ev);
        return true;
      };
      // a wait that timed out stops waiting: it must not take a later event
      // from the next wait for the same kind (an offer that did not come,
      // then one that does)
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out waiting; last events: ${JSON.stringify(this.events.slice(-5))}`));
      }, ms);
      this.waiters.push(waiter);
    });
  }

  cmd(cmd, fields = {}) {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, cmd, ...fields }));
    return this.wait((e) => e.type === 'result' && e.id === id);
  }

  raw(data) { this.ws.send(data); }

  // Sends a reply in 'conv'; resolves with its sequence number (the bubble)
  // once the server has accepted it.
  async reply(conv, text) {
    const r = await this.cmd('send', { conv, text });
    if (r.ok !== true) throw new Error(`send refused: ${JSON.stringify(r)}`);
    const m = await this.wait((e) => e.type === 'message' && e.conv === conv && e.message.dir === 'out'
      && e.message.text === text);
    return m.message.seq;
  }

  // Resolves when the bubble 'seq' of 'conv' reaches delivery 'status'.
  delivery(conv, seq, status, ms = 15000) {
    return this.wait((e) => e.type === 'delivery' && e.conv === conv && e.seq === seq && e.status === status, ms);
  }

  conv(id, pred = () => true, ms) {
    return this.wait((e) => e.type === 'conversation' && e.conversation.id === id && pred(e.conversation), ms)
      .then((e) => e.conversation);
  }

  offer(ms) {
    return this.wait((e) => e.type === 'conversation' && e.conversation.role === 'offered', ms)
      .then((e) => e.conversation);
  }

  close() { this.ws.close(); return this.closed; }
}

export async function simSend(url, from, to, text, id) {
  const r = await fetch(`${url}/api/sim/send`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ from, to, text, ...(id ? { id } : {}) }),
  });
  return { status: r.status, body: await r.json() };
}

export async function simInbox(url, number) {
  const r = await fetch(`${url}/api/sim/inbox?number=${encodeURIComponent(number)}`);
  return (await r.json()).messages;
}

export async function until(fn, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
