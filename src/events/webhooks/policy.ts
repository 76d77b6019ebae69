// Retry and circuit-breaker decisions for webhook deliveries, as pure functions.
import type { BreakerRow } from "../../store/records";

export const DAY_MS = 24 * 3600 * 1000;

/** Attempts so that exponential backoff from `baseMs` (base, 2×base, 4×base…) spans 24 h. */
export function attemptsFor24h(baseMs: number): number {
  return Math.ceil(Math.log2(DAY_MS / baseMs + 1)) + 1;
}

/** After this many failed attempts in a row an endpoint is paused. */
export const BREAKER_THRESHOLD = 5;
const COOLDOWN_MAX_MS = 3600 * 1000;

export function breakerAfterFailure(b: BreakerRow, now: number, cooldownBaseMs: number): BreakerRow {
  const failures = b.consecutive_failures + 1;
  if (failures < BREAKER_THRESHOLD) return { ...b, consecutive_failures: failures, open_until: null };
  // The pause doubles while the endpoint keeps failing its probe attempts.
  const cooldown = Math.min(COOLDOWN_MAX_MS, cooldownBaseMs * 2 ** (failures - BREAKER_THRESHOLD));
  return { ...b, consecutive_failures: failures, open_until: now + cooldown };
}

export function breakerAfterSuccess(url: string): BreakerRow {
  return { url, consecutive_failures: 0, open_until: null };
}

export function breakerOpen(b: BreakerRow | null, now: number): boolean {
  return !!b?.open_until && b.open_until > now;
}
