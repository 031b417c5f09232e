// The desktop's reconnect schedule (conn.js), apart so that the HA soak
// (tests/soak/soak_ha.mjs) reconnects its agents exactly as a desktop does.
// Quick at first: a failover behind the load balancer takes 1 to 2 s for a
// killed leader, so tries at 0.25, 0.75, 1.5 and 2.5 s bring a desktop back
// within about half a second of the new leader serving; then slower, up to
// 5 s between tries. Each delay varies by +-20 % so that a fleet of
// desktops does not knock in step. 'rand' returns [0, 1).
export function reconnectDelay(attempt, rand = Math.random) {
  const base = attempt <= 4 ? 250 * attempt : Math.min(5000, 1000 * 2 ** (attempt - 4));
  return Math.round(base * (0.8 + 0.4 * rand()));
}
