// The paging parameters every list route shares (jobs, deliveries, audit), checked in one
// place: SQLite reads a negative LIMIT as "no limit", so `?limit=-1` must never reach it.
import { Type as T } from "@sinclair/typebox";
import { BadRequestError } from "../errors";

export const LIST_LIMIT_MAX = 1000;

/** `limit`: 1..1000 as decimal digits (query values are strings). */
export const ListLimit = T.Optional(T.String({ pattern: "^[1-9][0-9]{0,3}$", description: `Items per page, 1-${LIST_LIMIT_MAX}`, default: "100" }));
/** A positive integer id cursor (`before` of the audit log). */
export const ListBefore = T.Optional(T.String({ pattern: "^[1-9][0-9]{0,15}$", description: "Return entries older than this id" }));

function positive(name: string, raw: unknown, max: number): number | undefined {
  // An empty value (a form left blank) is the default, as before.
  if (raw === undefined || raw === "") return undefined;
  const n = typeof raw === "string" && /^[0-9]{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new BadRequestError(`${name} must be an integer from 1 to ${max}`, { [name]: String(raw).slice(0, 40) });
  return n;
}

/** `?limit=` → 1..max, the default when absent; anything else (-1, 0, 1e3, abc, 5000) is 400. */
export function listLimit(raw: unknown, dflt = 100, max = LIST_LIMIT_MAX): number {
  return positive("limit", raw, max) ?? dflt;
}

/** `?before=` → a positive integer or undefined; anything else is 400. */
export function listBefore(raw: unknown): number | undefined {
  return positive("before", raw, Number.MAX_SAFE_INTEGER);
}
