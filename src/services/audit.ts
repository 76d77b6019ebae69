import { insertAudit, listAudit, type AuditRow } from "../store/audit";
import type { Principal, ServiceDeps } from "./deps";

export function audit(deps: Pick<ServiceDeps, "db" | "now">, actor: Principal | string, action: string, target?: string, details?: unknown): void {
  insertAudit(deps.db, { at: deps.now(), actor: typeof actor === "string" ? actor : actor.tokenId ?? actor.name, action, target, details });
}

export function auditView(r: AuditRow) {
  return { id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, details: r.details ? (JSON.parse(r.details) as unknown) : null };
}

export function listAuditEntries(deps: Pick<ServiceDeps, "db">, beforeId: number | undefined, limit: number) {
  return listAudit(deps.db, { beforeId, limit }).map(auditView);
}
