// Reconnect delays: doubling from `baseMs` to `maxMs`, with up to a quarter of jitter so a
// cluster of api nodes does not knock on a restarted broker all at once (pure: `random` given).
export function backoffMs(attempt: number, random: number, baseMs = 250, maxMs = 15_000): number {
  const plain = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(plain * (0.75 + 0.25 * Math.min(1, Math.max(0, random))));
}
