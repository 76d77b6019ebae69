import { statfsSync } from "node:fs";
import { Type as T, type Static } from "@sinclair/typebox";
import { FFMPEG_INSTALL_HINT } from "../media/binaries";
import type { ServiceDeps } from "./deps";

export const Check = T.Object({ ok: T.Boolean(), detail: T.String() });
export type Check = Static<typeof Check>;
/** GET /readyz's body (200 ready, 503 not). */
export const Readiness = T.Object({ status: T.Union([T.Literal("ready"), T.Literal("not ready")]), checks: T.Record(T.String(), Check) });

const MIN_FREE_BYTES = 512 * 1024 * 1024;

/** Readiness (SPEC §3): Redis, SQLite, disk space, ffmpeg, each with a reason when not ok. */
export type HealthDeps = Pick<ServiceDeps, "redis" | "media" | "busStatus"> & {
  records?: Pick<ServiceDeps["records"], "engine" | "ping">;
  mediaStore: Pick<ServiceDeps["mediaStore"], "root">;
  /** The media bucket, where there is one (SPEC §11: /readyz says when it is unreachable or refuses us). */
  mediaFiles?: Pick<ServiceDeps["mediaFiles"], "check">;
};

/** Readiness: the records are checked where this process reads them (workers never do), under the engine's name. */
export async function readiness(deps: HealthDeps): Promise<{ ready: boolean; checks: Record<string, Check> }> {
  const checks: Record<string, Check> = {};
  try {
    const pong = await Promise.race([deps.redis.ping(), Bun.sleep(1000).then(() => "timeout")]);
    if (pong !== "PONG") throw new Error(String(pong));
    // A Redis that evicts keys silently loses jobs; BullMQ only prints a warning.
    const policy = (await deps.redis.config("GET", "maxmemory-policy")) as string[];
    const p = policy[1] ?? "unknown";
    checks.redis = p === "noeviction" ? { ok: true, detail: "PONG, maxmemory-policy noeviction" } : { ok: false, detail: `maxmemory-policy is ${p}: set it to noeviction or jobs can be lost` };
  } catch (e) {
    checks.redis = { ok: false, detail: `Redis unreachable (${deps.redis.status}): ${(e as Error).message}` };
  }
  if (deps.records) {
    const { engine } = deps.records;
    try {
      await Promise.race([deps.records.ping(), Bun.sleep(2000).then(() => Promise.reject(new Error("no answer within 2 s")))]);
      checks[engine] = { ok: true, detail: "ok" };
    } catch (e) {
      checks[engine] = { ok: false, detail: `${engine} unreachable: ${(e as Error).message}` };
    }
  }
  try {
    const s = statfsSync(deps.mediaStore.root);
    const free = s.bavail * s.bsize;
    checks.disk = free >= MIN_FREE_BYTES ? { ok: true, detail: `${Math.round(free / 2 ** 20)} MiB free` } : { ok: false, detail: `only ${Math.round(free / 2 ** 20)} MiB free in the media store` };
  } catch (e) {
    checks.disk = { ok: false, detail: (e as Error).message };
  }
  if (deps.mediaFiles?.check) checks.bucket = await deps.mediaFiles.check();
  checks.ffmpeg =
    deps.media.ffmpeg && deps.media.ffprobe
      ? { ok: true, detail: `${deps.media.ffmpeg} (${deps.media.ffmpegFrom}), ${deps.media.ffprobe}` }
      : { ok: false, detail: `${!deps.media.ffmpeg ? "ffmpeg" : "ffprobe"} not found: ${FFMPEG_INSTALL_HINT}` };
  const ready = Object.values(checks).every((c) => c.ok);
  // Reported, not counted: the HTTP API works the same while the bus is down (SPEC §13), so a
  // load balancer must not take the node out for it.
  if (deps.busStatus) checks.bus = deps.busStatus();
  return { ready, checks };
}
