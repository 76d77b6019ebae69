import { Type as T, type Static } from "@sinclair/typebox";
import { insertAudit, listAudit, type AuditRow } from "../store/audit";
import type { Principal, ServiceDeps } from "./deps";

export function audit(deps: Pick<ServiceDeps, "db" | "now">, actor: Principal | string, action: string, target?: string, details?: unknown): void {
  insertAudit(deps.db, { at: deps.now(), actor: typeof actor === "string" ? actor : actor.tokenId ?? actor.name, action, target, details });
}

export const AuditEntry = T.Object({
  id: T.Integer({ description: "Increasing; pass the last one as ?before= for the next page" }),
  at: T.String({ format: "date-time" }),
  actor: T.String({ description: "Token id or name" }),
  action: T.String({ description: "e.g. token.create, queue.pause, job.cancel" }),
  target: T.Union([T.String(), T.Null()]),
  details: T.Unknown(),
});
export type AuditEntry = Static<typeof AuditEntry>;

export function auditView(r: AuditRow): AuditEntry {
  return { id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, details: r.details ? (JSON.parse(r.details) as unknown) : null };
}

export function listAuditEntries(deps: Pick<ServiceDeps, "db">, beforeId: number | undefined, limit: number) {
  return listAudit(deps.db, { beforeId, limit }).map(auditView);
}
