// The result of one send on any channel, so the one delivery loop (services/webhooks.ts)
// decides retries, breakers and the log the same way for webhooks, email and Web Push.

export type SendOutcome =
  | { ok: true; status: number | null; detail?: string }
  /** retry: try again with backoff; gone: the target no longer exists (remove its subscription). */
  | { ok: false; status: number | null; error: string; retry: boolean; gone?: boolean };

/** SMTP reply codes: 5xx is permanent (a bounce), 4xx and no reply at all (connection) retry. Pure. */
export function smtpOutcome(e: { responseCode?: number; code?: string; message?: string }): SendOutcome {
  const code = typeof e.responseCode === "number" ? e.responseCode : null;
  const error = (e.message ?? "SMTP error").replace(/\s+/g, " ").slice(0, 300);
  return { ok: false, status: code, error, retry: code === null || code < 500 };
}

/** Push service answers (RFC 8030 §5, web-push's docs): 404/410 the subscription is gone; 429 and 5xx retry; other 4xx are permanent. Pure. */
export function pushOutcome(status: number): SendOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  if (status === 404 || status === 410) return { ok: false, status, error: `HTTP ${status}: the push subscription is gone`, retry: false, gone: true };
  return { ok: false, status, error: `HTTP ${status}`, retry: status === 429 || status >= 500 || status === 408 };
}
