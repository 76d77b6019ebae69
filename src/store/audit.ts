import type { Db } from "./db";

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: string | null;
}

export function insertAudit(db: Db, a: { at: number; actor: string; action: string; target?: string | null; details?: unknown }): void {
  db.query("INSERT INTO audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)").run(
    a.at,
    a.actor,
    a.action,
    a.target ?? null,
    a.details === undefined ? null : JSON.stringify(a.details),
  );
}

/** Removes audit entries older than `before`; returns how many. */
export function pruneAudit(db: Db, before: number, batch: number): number {
  return db.query("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY id LIMIT ?)").run(before, batch).changes;
}

export function listAudit(db: Db, opts: { beforeId?: number; limit: number }): AuditRow[] {
  return db
    .query<AuditRow, [number, number]>("SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?")
    .all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit);
}
