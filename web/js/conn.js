// The agent WebSocket: commands with promises keyed by id, events to one
// handler, and automatic reconnection with backoff. The server sends a
// fresh snapshot on every (re)connect, so the caller resyncs from that.
//
// Heartbeat: a network that drops packets silently (Wi-Fi gone, a NAT
// forgetting the connection) closes nothing, so the browser would wait for
// TCP's own timeout, minutes. After 3 ticks (15 s) without a frame the desk
// sends a `ping`; after 5 ticks without any frame it gives the connection
// up and reconnects. (A test may set window.TEXTDESK_HEARTBEAT_MS.)
import { reconnectDelay } from './backoff.js';

const TICK = () => Number(globalThis.TEXTDESK_HEARTBEAT_MS) || 5000;

export class Conn {
  constructor({ onEvent, onStatus }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.pending = new Map();
    this.nextId = 1;
    this.ws = null;
    this.stopped = false;
    this.attempt = 0;
    this.timer = null;
  }

  get online() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  start() {
    this.stopped = false;
    this.open();
  }

  open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.onStatus(this.attempt ? 'reconnecting' : 'connecting');
    ws.onopen = () => { this.attempt = 0; this.seen = Date.now(); this.beat(ws); this.onStatus('online'); };
    ws.onmessage = (m) => {
      this.seen = Date.now();
      let ev;
      try { ev = JSON.parse(m.data); } catch { return; }
      if (ev.type === 'result' && ev.id != null && this.pending.has(ev.id)) {
        const p = this.pending.get(ev.id);
        this.pending.delete(ev.id);
        p.resolve(ev);
        return;
      }
      this.onEvent(ev);
    };
    ws.onclose = () => this.lost(ws);
  }

  // 'ws' is gone (closed, or silent past the heartbeat): fail what waits
  // for it and reconnect with backoff.
  lost(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearInterval(this.hb);
    for (const p of this.pending.values()) p.resolve({ type: 'result', ok: false, error: 'offline' });
    this.pending.clear();
    if (this.stopped) return;
    this.attempt++;
    this.onStatus('reconnecting', this.attempt);
    this.timer = setTimeout(() => this.open(), reconnectDelay(this.attempt));
  }

  beat(ws) {
    clearInterval(this.hb);
    const tick = TICK();
    this.hb = setInterval(() => {
      if (this.ws !== ws) return;
      const quiet = Date.now() - this.seen;
      if (quiet > 5 * tick) {
        this.lost(ws);
        try { ws.close(); } catch { /* already closing */ }
      } else if (quiet > 3 * tick) {
        this.cmd('ping');
      }
    }, tick);
  }

  // Resolves with the result object ({ok, error, ...}); never rejects.
  cmd(cmd, fields = {}) {
    if (!this.online) return Promise.resolve({ type: 'result', ok: false, error: 'offline' });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { resolve });
      this.ws.send(JSON.stringify({ id, cmd, ...fields }));
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.hb);
    if (this.ws) this.ws.close();
    this.ws = null;
  }
}
