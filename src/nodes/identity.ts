import { hostname } from "node:os";
import { randomBytes } from "node:crypto";

/** This process's node id: host plus a short random suffix (several nodes may share a host). */
export function newNodeId(): string {
  return `${hostname()}-${randomBytes(3).toString("hex")}`;
}
