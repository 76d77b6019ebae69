// The node list of /v1/nodes: every advert live in Redis (nodes/heartbeat.ts).
import type { NodeAdvert } from "../nodes/advert";
import { listNodes } from "../nodes/heartbeat";
import { withRedis } from "../queue/connection";
import type { ServiceDeps } from "./deps";

/** Nodes seen in the last minute; Redis down is a 503. */
export async function listOnlineNodes(deps: Pick<ServiceDeps, "redis">): Promise<NodeAdvert[]> {
  return await withRedis(() => listNodes(deps.redis));
}
