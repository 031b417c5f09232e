// The desktop's one state object, shared by the modules. Only app.js
// changes it in response to server events; views read it.
export const S = {
  me: null,
  queues: [],
  eps: [],
  wrapupReasons: [],
  idleReasons: [],
  convs: new Map(),     // id -> conversation (as the server last sent it)
  tx: new Map(),        // id -> {loaded, items: [...]} transcript items
  unread: new Map(),    // id -> count of customer messages not yet seen
  offerSeen: new Map(), // id -> local ms when the offer arrived
  drafts: new Map(),    // id -> composer text (survives reconnects)
  names: new Map(),     // agent id -> name
  history: new Map(),   // id -> the customer's earlier conversations
  guestOf: new Map(),   // id -> owner's name, for a conversation the agent was a conference guest in
  view: 'tasks',        // narrow screens: 'tasks', 'conv' or 'details'
  selected: 0,
  offerPage: 0,
  online: false,
  conn: null,
};

export const TASK_ROLES = new Set(['owner', 'guest', 'wrapup']);
export const OFFER_ROLES = new Set(['offered', 'invited']);

export function title(c) {
  return c.name || c.number;
}

export function lastMessage(id) {
  const tx = S.tx.get(id);
  if (!tx) return null;
  for (let i = tx.items.length - 1; i >= 0; i--) if (tx.items[i].kind === 'msg') return tx.items[i];
  return null;
}

export function agentName(id, fallback) {
  if (fallback) return fallback;
  if (S.me && id === S.me.id) return S.me.name;
  return S.names.get(id) || `Agent ${id}`;
}
