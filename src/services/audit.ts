import { Type as T, type Static } from "@sinclair/typebox";
import type { AuditRow } from "../store/records";
import type { Principal, ServiceDeps } from "./deps";

export async function audit(deps: Pick<ServiceDeps, "records" | "now">, actor: Principal | string, action: string, target?: string, details?: unknown): Promise<void> {
  await deps.records.audit.insert({ at: deps.now(), actor: typeof actor === "string" ? actor : actor.tokenId ?? actor.name, action, target, details });
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

export async function listAuditEntries(deps: Pick<ServiceDeps, "records">, beforeId: number | undefined, limit: number) {
  return (await deps.records.audit.list({ beforeId, limit })).map(auditView);
}
