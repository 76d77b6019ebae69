// The audit log on SQLite (behind AuditRecords).
import type { AuditRecords, AuditRow } from "../records";
import type { Db } from "./db";

export function sqliteAuditRecords(db: Db): AuditRecords {
  return {
    async insert(a) {
      db.query("INSERT INTO audit (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)").run(a.at, a.actor, a.action, a.target ?? null, a.details === undefined ? null : JSON.stringify(a.details));
    },
    prune: async (before, batch) => db.query("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY id LIMIT ?)").run(before, batch).changes,
    list: async (o) => db.query<AuditRow, [number, number]>("SELECT * FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?").all(o.beforeId ?? Number.MAX_SAFE_INTEGER, o.limit),
  };
}
