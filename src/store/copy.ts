// `medianode store copy` (SPEC §11): an embedded install's records, SQLite → PostgreSQL, row for
// row (both engines hold the same tables and columns, tests/store/migrate.test.ts), so tokens
// keep their hashes, jobs their ids and outputs, webhooks their secrets. Idempotent: a row
// whose key the target has already is left as the target has it (the new cluster may have moved
// it on since), so a second run copies nothing. Verified: afterwards every source row's key is
// in the target. Media are copied by a MediaCopier (the bucket store's), given every job id.
import type { SQL } from "bun";
import type { MediaCopied } from "../storage/copy-media";
import type { Db } from "./sqlite/db";

export type { MediaCopied };

/** Each table with the columns that identify a row (audit has none: see AUDIT_MATCH). */
export const COPIED_TABLES: readonly { table: string; key: readonly string[] }[] = [
  { table: "tokens", key: ["id"] },
  { table: "jobs", key: ["id"] },
  { table: "webhooks", key: ["id"] },
  { table: "notifications", key: ["id"] },
  { table: "deliveries", key: ["id"] },
  { table: "delivery_attempts", key: ["delivery_id", "attempt"] },
  { table: "webhook_breakers", key: ["key"] },
  { table: "cluster_secrets", key: ["name"] },
  { table: "audit", key: [] },
];

/**
 * Audit ids are a sequence on each side (the new cluster numbers its own entries), so an entry
 * is "already there" when one with the same content is; copied ones get the target's next ids.
 */
const AUDIT_MATCH = ["at", "actor", "action", "target", "details"] as const;

const BATCH = 500;

export interface TableCopied {
  table: string;
  /** Rows in the SQLite file. */
  source: number;
  /** Rows this run wrote. */
  copied: number;
  /** Source rows the target holds after the run (verified: equals source). */
  present: number;
}

/**
 * Copies the media of these jobs (their sources and outputs under the data dir) to the new
 * media store, checking each file's sha256 there: storage/copy-media.ts for `--media-to s3://`;
 * the records copy does not depend on which.
 */
export type MediaCopier = (jobIds: readonly string[]) => Promise<MediaCopied>;

export interface CopyReport {
  tables: TableCopied[];
  media: MediaCopied | null;
  /** True when every source row is in the target (and every media file verified). */
  ok: boolean;
}

/** A row's identity as text on either side (PostgreSQL returns BIGINT as text, SQLite as a number). */
const keyOf = (row: Record<string, unknown>, cols: readonly string[]) => JSON.stringify(cols.map((c) => (row[c] === null || row[c] === undefined ? null : String(row[c]))));

/** The columns both sides have (the same, once both are migrated to the same version). */
async function sharedColumns(db: Db, pg: SQL, table: string): Promise<string[]> {
  const lite = db.query<{ name: string }, []>(`PRAGMA table_info(${table})`).all().map((c) => c.name);
  const theirs = new Set(((await pg`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`) as { column_name: string }[]).map((c) => c.column_name));
  return lite.filter((c) => theirs.has(c));
}

/** How many of these rows' keys the target holds (one query per batch, keys compared as text). */
async function countPresent(pg: SQL, table: string, key: readonly string[], rows: Record<string, unknown>[]): Promise<number> {
  const args: string[] = [];
  const tuples = rows.map((r) => `(${key.map((c) => (args.push(String(r[c])), `$${args.length}::text`)).join(", ")})`);
  const cols = key.map((c) => `"${c}"::text`).join(", ");
  const [r] = (await pg.unsafe(`SELECT COUNT(*)::int AS n FROM ${table} WHERE (${cols}) IN (${tuples.join(", ")})`, args)) as { n: number }[];
  return r!.n;
}

async function copyKeyed(db: Db, pg: SQL, table: string, key: readonly string[]): Promise<TableCopied> {
  const cols = await sharedColumns(db, pg, table);
  const select = `SELECT ${cols.map((c) => `"${c}"`).join(", ")} FROM ${table} ORDER BY ${key.map((c) => `"${c}"`).join(", ")} LIMIT ? OFFSET ?`;
  const out: TableCopied = { table, source: 0, copied: 0, present: 0 };
  for (let offset = 0; ; offset += BATCH) {
    const rows = db.query<Record<string, unknown>, [number, number]>(select).all(BATCH, offset);
    if (!rows.length) break;
    out.source += rows.length;
    out.copied += (await pg`INSERT INTO ${pg(table)} ${pg(rows, ...cols)} ON CONFLICT DO NOTHING`).count;
    out.present += await countPresent(pg, table, key, rows);
  }
  return out;
}

/** The target's audit entries as a multiset of their contents. */
async function auditContents(pg: SQL): Promise<Map<string, number>> {
  const have = new Map<string, number>();
  for (const r of (await pg.unsafe(`SELECT ${AUDIT_MATCH.map((c) => `"${c}"`).join(", ")} FROM audit`)) as Record<string, unknown>[]) {
    const k = keyOf(r, AUDIT_MATCH);
    have.set(k, (have.get(k) ?? 0) + 1);
  }
  return have;
}

/** Source entries, in id order, that `have` does not hold (taking one match each from it). */
function* unmatchedAudit(db: Db, have: Map<string, number>, seen: { n: number }): Generator<Record<string, unknown>[]> {
  for (let after = 0; ; ) {
    const rows = db.query<Record<string, unknown> & { id: number }, [number, number]>(`SELECT id, ${AUDIT_MATCH.join(", ")} FROM audit WHERE id > ? ORDER BY id LIMIT ?`).all(after, BATCH);
    if (!rows.length) return;
    after = rows.at(-1)!.id;
    seen.n += rows.length;
    yield rows.filter((r) => {
      const k = keyOf(r, AUDIT_MATCH);
      const n = have.get(k) ?? 0;
      if (n > 0) have.set(k, n - 1); // two identical entries need two in the target
      return n === 0;
    });
  }
}

async function copyAudit(db: Db, pg: SQL): Promise<TableCopied> {
  const seen = { n: 0 };
  let copied = 0;
  for (const missing of unmatchedAudit(db, await auditContents(pg), seen)) {
    if (missing.length) copied += (await pg`INSERT INTO audit ${pg(missing, ...AUDIT_MATCH)}`).count;
  }
  // Verified afresh: every source entry matched by one in the target.
  let unmatched = 0;
  for (const missing of unmatchedAudit(db, await auditContents(pg), { n: 0 })) unmatched += missing.length;
  return { table: "audit", source: seen.n, copied, present: seen.n - unmatched };
}

/**
 * Copies every record of `db` (an embedded install's SQLite, migrated) into `pg` (PostgreSQL,
 * migrated to the same version), then the media through `media` if given.
 */
export async function copyStore(db: Db, pg: SQL, o: { media?: MediaCopier } = {}): Promise<CopyReport> {
  const tables: TableCopied[] = [];
  for (const t of COPIED_TABLES) tables.push(t.table === "audit" ? await copyAudit(db, pg) : await copyKeyed(db, pg, t.table, t.key));
  const media = o.media ? await o.media(db.query<{ id: string }, []>("SELECT id FROM jobs ORDER BY id").all().map((r) => r.id)) : null;
  const ok = tables.every((t) => t.present === t.source) && (media === null || media.verified === media.files);
  return { tables, media, ok };
}
