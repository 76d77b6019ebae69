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

export function breakerAfterSuccess(key: string): BreakerRow {
  return { key, consecutive_failures: 0, open_until: null };
}

/**
 * Whose breaker a delivery trips: its subscription's, or for a job's own webhook URL the
 * tenant's for that URL. Never the URL alone: one tenant failing against another's endpoint
 * must not pause the other's deliveries (issue #12). Pure.
 */
export function breakerKey(d: { webhook_id: string | null; notification_id?: string | null; tenant: string; url: string }): string {
  // Email and Web Push subscriptions (issue #18) get theirs the same way; a job's own address
  // or push endpoint is keyed like a job's own URL (mailto:<address>, the endpoint).
  if (d.notification_id) return `notification:${d.notification_id}`;
  return d.webhook_id ? `webhook:${d.webhook_id}` : `job:${d.tenant} ${d.url}`;
}

export function breakerOpen(b: BreakerRow | null, now: number): boolean {
  return !!b?.open_until && b.open_until > now;
}
