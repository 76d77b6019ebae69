// The job filters as CLI flags (`jobs list`, `jobs export`, `stats`), turned into the query
// parameters of SPEC §3 in one place: --meta k=v (repeatable), --since/--until (a duration
// back from now, like 24h or 7d, or an ISO time), --node, --error-code, --status, --type.
import { Command, InvalidArgumentError, Option } from "commander";
import { JOB_ERROR_CODES } from "../src/errors";
import { JOB_STATUSES, JOB_TYPES } from "../src/jobs/schema";

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "24h", "30m", "7d", "2w", or an ISO 8601 time → epoch ms (relative to `now`). Pure. */
export function parseWhen(raw: string, now: number): number {
  const m = /^(\d+)([smhdw])$/.exec(raw.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  const t = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`expected a duration like 24h or 7d, or an ISO time, got "${raw}"`);
  return t;
}

/** `key=value` for --meta. Pure. */
export function parseMeta(raw: string, prev: [string, string][] = []): [string, string][] {
  const i = raw.indexOf("=");
  if (i < 1) throw new InvalidArgumentError(`expected key=value, got "${raw}"`);
  return [...prev, [raw.slice(0, i), raw.slice(i + 1)]];
}

export interface FilterFlags {
  status?: string;
  type?: string;
  node?: string;
  errorCode?: string;
  since?: string;
  until?: string;
  meta?: [string, string][];
}

export function withFilterOptions(c: Command): Command {
  return c
    .addOption(new Option("--status <status>", "only jobs in this state").choices(JOB_STATUSES))
    .addOption(new Option("--type <type>", "only jobs of this type").choices(JOB_TYPES))
    .option("--meta <key=value>", "only jobs whose metadata has key=value (repeat to AND several)", parseMeta)
    .option("--since <when>", "created at or after: a duration back from now (24h, 7d) or an ISO time")
    .option("--until <when>", "created before: a duration back from now or an ISO time")
    .option("--node <id>", "only jobs run by this node")
    .addOption(new Option("--error-code <code>", "only jobs that failed with this code").choices(JOB_ERROR_CODES));
}

/** The flags as query parameters; `timeNames` are the API's names for since/until. Pure. */
export function filterParams(o: FilterFlags, now: number, timeNames: [string, string] = ["createdAfter", "createdBefore"]): [string, string][] {
  const p: [string, string][] = [];
  if (o.status) p.push(["status", o.status]);
  if (o.type) p.push(["type", o.type]);
  if (o.node) p.push(["node", o.node]);
  if (o.errorCode) p.push(["errorCode", o.errorCode]);
  if (o.since) p.push([timeNames[0], new Date(parseWhen(o.since, now)).toISOString()]);
  if (o.until) p.push([timeNames[1], new Date(parseWhen(o.until, now)).toISOString()]);
  for (const [k, v] of o.meta ?? []) p.push([`metadata.${k}`, v]);
  return p;
}
