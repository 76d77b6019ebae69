import type { AuditRow } from "../store/records";
import type { Principal, ServiceDeps } from "./deps";

export async function audit(deps: Pick<ServiceDeps, "records" | "now">, actor: Principal | string, action: string, target?: string, details?: unknown): Promise<void> {
  await deps.records.audit.insert({ at: deps.now(), actor: typeof actor === "string" ? actor : actor.tokenId ?? actor.name, action, target, details });
}

export function auditView(r: AuditRow) {
  return { id: r.id, at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, target: r.target, details: r.details ? (JSON.parse(r.details) as unknown) : null };
}

export async function listAuditEntries(deps: Pick<ServiceDeps, "records">, beforeId: number | undefined, limit: number) {
  return (await deps.records.audit.list({ beforeId, limit })).map(auditView);
}
