// Playback URLs (SPEC §10): GET /v1/jobs/:id/playback issues them; GET/HEAD /p/<token>/<name>
// serves a job's outputs through them with no Authorization header. /p/ never looks at the
// bearer-token auth (api/auth.ts): the signed token in the path is its only credential.
import { Elysia } from "elysia";
import type { Config } from "../../config/schema";
import type { JobRecord } from "../../jobs/schema";
import { BadRequestError, ForbiddenError, GoneError, NotFoundError, StorageError } from "../../errors";
import { mimeFor } from "../../media/mime";
import type { Principal, ServiceDeps } from "../../services/deps";
import { publicBase } from "../../services/notifications";
import { checkPlaybackGeneration, playableJob } from "../../services/playback";
import { signingSecret } from "../../services/signing-secrets";
import { requireScope } from "../auth";
import { AUTH_ERRORS, Binary, docResponses, errors, out } from "../schemas";
import { serveLocated } from "../static-file/serve";
import type { OutputLocation } from "../../storage/media-files";
import { playbackCacheControl } from "./cache";
import { DEFAULT_TTL_SEC, PlaybackFileParams, PlaybackParams, PlaybackQuery, PlaybackView } from "./schema";
import { signPlaybackToken, verifyPlaybackToken, type PlaybackClaims } from "./token";


const encodeName = (name: string) => name.split("/").map(encodeURIComponent).join("/");

/** `?ttl=`: whole seconds, 1 to the configured maximum. */
export function parseTtl(raw: string | undefined, maxSec: number): number {
  if (raw === undefined) return Math.min(DEFAULT_TTL_SEC, maxSec);
  const n = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= maxSec)) throw new BadRequestError(`ttl must be a whole number of seconds from 1 to ${maxSec} (MEDIANODE_PLAYBACK_MAX_TTL_SEC), got ${JSON.stringify(raw)}`);
  return n;
}

/** The playback URLs of one generation of a job's outputs, signed until `expiresAtSec`. */
export function playbackUrls(job: { id: string; generation: number; names: Set<string> }, origin: string, secret: string, expiresAtSec: number): PlaybackView {
  const token = signPlaybackToken({ jobId: job.id, generation: job.generation, expiresAtSec }, secret);
  const base = `${origin}/p/${token}/`;
  const url = (name: string) => (job.names.has(name) ? base + encodeName(name) : null);
  return { hls: url("master.m3u8"), mp4: url("video.mp4"), poster: url("poster.jpg"), base, expiresAt: new Date(expiresAtSec * 1000).toISOString() };
}

/**
 * A link sent out of band (a notification mail, issue #18): the completed job's MP4, else its
 * HLS playlist, valid for the default lifetime; null when the job has nothing to play. The
 * origin is MEDIANODE_PLAYBACK_BASE_URL, else the node's public address (no request to take it from).
 */
export function playbackLinkFor(config: Config, now: () => number): (job: JobRecord) => string | null {
  const secret = signingSecret(config, "playbackSecret");
  const origin = config.playbackBaseUrl ?? publicBase(config);
  return (job) => {
    if (job.status !== "completed" || job.finishedAt === null) return null;
    const expiresAtSec = Math.floor(now() / 1000) + parseTtl(undefined, config.playbackMaxTtlSec);
    const v = playbackUrls({ id: job.id, generation: job.finishedAt, names: new Set(job.outputs.map((o) => o.name)) }, origin, secret, expiresAtSec);
    return v.mp4 ?? v.hls;
  };
}

export function playbackRoutes(deps: ServiceDeps, principalOf: (r: Request) => Principal) {
  const secret = signingSecret(deps.config, "playbackSecret");
  const nowSec = () => Math.floor(deps.now() / 1000);
  // A player asks for many segments with one token: its HMAC is checked once. The expiry is
  // still checked on every request (cached claims carry it); the cache is bounded.
  const verified = new Map<string, PlaybackClaims>();
  const verify = (token: string) => {
    const hit = verified.get(token);
    if (hit) return nowSec() < hit.expiresAtSec ? ({ ok: true, claims: hit } as const) : ({ ok: false, reason: "expired", claims: hit } as const);
    const v = verifyPlaybackToken(token, secret, nowSec());
    if (v.ok) {
      if (verified.size >= 10_000) verified.clear();
      verified.set(token, v.claims);
    }
    return v;
  };

  const serve = async ({ request, params }: { request: Request; params: Record<string, string | undefined> }) => {
    const v = verify(params.token ?? "");
    if (!v.ok && v.reason === "expired") throw new GoneError(`this playback URL expired at ${new Date(v.claims.expiresAtSec * 1000).toISOString()}`);
    if (!v.ok) throw new ForbiddenError("invalid playback token: it was altered or signed with another secret");
    await checkPlaybackGeneration(deps, v.claims.jobId, v.claims.generation);
    const name = params["*"] ?? "";
    let loc: OutputLocation;
    try {
      // A presigned redirect (media in a bucket) lives no longer than the token.
      loc = await deps.mediaFiles.locateOutput(v.claims.jobId, name, { maxPresignSec: v.claims.expiresAtSec - nowSec() });
    } catch (e) {
      if (e instanceof StorageError) throw e;
      // Traversal, another job's path, or a name the job does not have: all just "not here".
      throw new NotFoundError("no such output in this job");
    }
    return serveLocated(request, loc, {
      contentType: mimeFor(name),
      cacheControl: playbackCacheControl(name),
      onBytes: (n) => deps.metrics.bytesTotal.inc({ direction: "out" }, n),
    });
  };
  const fileRoute = {
    params: PlaybackFileParams,
    detail: {
      security: [],
      summary: "An output through a playback URL: no auth header, CORS open, cacheable (ETag, Range, 304)",
      description: "`*` is the output's name (may contain slashes: 720p/seg_001.ts). 403: altered or malformed token; 410: expired, or revoked because the job's outputs were replaced or deleted.",
      responses: docResponses({ 200: Binary, 206: Binary, 302: "Media in a bucket: a presigned URL of the file, valid no longer than the token (playlists are served here)", 304: "Not modified", 416: "Range not satisfiable", ...errors("FORBIDDEN", "NOT_FOUND", "GONE") }, [200, 206]),
    },
  };

  return new Elysia({ name: "playback", tags: ["playback"] })
    .get(
      "/v1/jobs/:id/playback",
      async ({ request, params, query }): Promise<PlaybackView> => {
        const who = principalOf(request);
        requireScope(who, "jobs:read");
        const ttl = parseTtl(query.ttl, deps.config.playbackMaxTtlSec);
        const job = await playableJob(deps, params.id, who);
        return playbackUrls({ id: job.row.id, generation: job.generation, names: job.names }, deps.config.playbackBaseUrl ?? new URL(request.url).origin, secret, nowSec() + ttl);
      },
      {
        params: PlaybackParams,
        query: PlaybackQuery,
        response: { 200: out(PlaybackView), ...errors(...AUTH_ERRORS, "BAD_REQUEST", "NOT_FOUND", "CONFLICT") },
        detail: { summary: "Expiring URLs that play this job's outputs with no header (token in the path, SPEC §10)" },
      },
    )
    .get("/p/:token/*", serve, fileRoute)
    .head("/p/:token/*", serve, fileRoute);
}
