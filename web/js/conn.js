// The agent WebSocket: commands with promises keyed by id, events to one
// handler, and automatic reconnection with backoff. The server sends a
// fresh snapshot on every (re)connect, so the caller resyncs from that.
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
    ws.onopen = () => { this.attempt = 0; this.onStatus('online'); };
    ws.onmessage = (m) => {
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
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const p of this.pending.values()) p.resolve({ type: 'result', ok: false, error: 'offline' });
      this.pending.clear();
      if (this.stopped) return;
      this.attempt++;
      this.onStatus('reconnecting', this.attempt);
      const delay = Math.min(5000, 250 * 2 ** Math.min(this.attempt, 5));
      this.timer = setTimeout(() => this.open(), delay);
    };
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
    if (this.ws) this.ws.close();
    this.ws = null;
  }
}
