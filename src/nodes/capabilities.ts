// What a job may require and which nodes can run it (SPEC §2: `options.require`). Pure: the
// submit path, the reconcile and the worker role all decide with these functions.
import { Type as T, type Static } from "@sinclair/typebox";
import { CAPABILITY_PATTERN } from "../config/schema";
import type { JobType, Waiting } from "../jobs/schema";
import type { NodeAdvert } from "./advert";

/** More than this many names in one requirement is refused (422). */
export const MAX_REQUIRE = 8;

export const Requirement = T.Array(T.String({ pattern: CAPABILITY_PATTERN, description: "An ffmpeg encoder or hwaccel name, or a MEDIANODE_CAPABILITIES label" }), {
  minItems: 1,
  maxItems: MAX_REQUIRE,
  description: "Run only on a node that has all of these capabilities",
});
export type Requirement = Static<typeof Requirement>;

/** The canonical form of a requirement: sorted, without repeats. */
export function normalizeRequire(list: readonly string[]): string[] {
  return [...new Set(list)].sort();
}

/** The requirement stored in a job's (resolved) options; [] when it has none. */
export function requirementOf(options: Record<string, unknown>): string[] {
  const r = options.require;
  return Array.isArray(r) ? normalizeRequire(r.filter((x): x is string => typeof x === "string")) : [];
}

/** Everything a node offers: its ffmpeg encoders and hwaccels, its extra decoders (heic), and its operator labels. */
export function nodeCapabilities(n: Pick<NodeAdvert, "encoders" | "hwaccels"> & { decoders?: readonly string[]; labels?: readonly string[] }): Set<string> {
  return new Set([...n.encoders, ...n.hwaccels, ...(n.decoders ?? []), ...(n.labels ?? [])]);
}

/** True when `caps` has every name in `require` (an empty requirement is always covered). */
export function covers(caps: ReadonlySet<string>, require: readonly string[]): boolean {
  return require.every((c) => caps.has(c));
}

/** Online nodes that would take a job of this type and requirement: worker role, a slot for the type, every capability. */
export function capableNodes(nodes: readonly NodeAdvert[], type: JobType, require: readonly string[]): NodeAdvert[] {
  return nodes.filter((n) => n.roles.includes("worker") && (n.concurrency[type] ?? 0) > 0 && covers(nodeCapabilities(n), require));
}


/** The marker for a queued job, or null when some online node can run it. */
export function waitingFor(nodes: readonly NodeAdvert[], type: JobType, require: readonly string[], sinceIso: string): Waiting | null {
  if (require.length === 0 || capableNodes(nodes, type, require).length > 0) return null;
  return {
    reason: "NO_CAPABLE_NODE",
    require: [...require],
    message: `no online node can run a ${type} job requiring ${require.join(", ")}; it runs when such a node comes online`,
    since: sinceIso,
  };
}
