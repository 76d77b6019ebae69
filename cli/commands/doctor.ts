// `medianode doctor`: can this machine run a node? One line per check, with a fix hint.
import { accessSync, constants, existsSync, statfsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { Database } from "bun:sqlite";
import { Command } from "commander";
import { loadConfig } from "../../src/config/load";
import type { Config } from "../../src/config/schema";
import { openBucket } from "../../src/storage/bucket";
import { FFMPEG_INSTALL_HINT, ffmpegEncoders, ffmpegHwaccels, ffmpegVersion, resolveBinaries } from "../../src/media/binaries";
import { encoderDevice, usableEncoders, usableHwaccels } from "../../src/media/hardware";
import { findHeifConvert, HEIF_INSTALL_HINT } from "../../src/media/heif";
import { createRedis, waitForRedis } from "../../src/queue/connection";
import { findRedisServer, REDIS_INSTALL_HINT } from "../../src/queue/redis-server";
import { openPostgres, redactUrl } from "../../src/store/postgres/index";
import { dbPath, openDb } from "../../src/store/sqlite/db";
import { checkBus as reachBus } from "../../src/bus/bridge";
import { maskUrl } from "../../src/bus/url";
import { dataDirOwnerProblem } from "../data-dir";
import { formatBytes, printJson, say, table } from "../output";
import { definedFlags, type Ctx } from "../options";

export type CheckStatus = "ok" | "warn" | "fail";
export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

/** Same floor as /readyz (services/health.ts): below it the node reports not ready. */
const MIN_FREE_BYTES = 512 * 1024 * 1024;
const LOW_FREE_BYTES = 5 * 1024 ** 3;
const VIDEO_ENCODERS = ["libx264", "aac"];

async function checkFfmpeg(config: Config): Promise<Check[]> {
  const b = resolveBinaries({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  const out: Check[] = [];
  if (!b.ffmpeg) out.push({ name: "ffmpeg", status: "fail", detail: "not found", hint: FFMPEG_INSTALL_HINT });
  else {
    const [version, encoders, listed] = await Promise.all([ffmpegVersion(b.ffmpeg), ffmpegEncoders(b.ffmpeg), ffmpegHwaccels(b.ffmpeg)]);
    const detail = `${b.ffmpeg} ${version ?? "(does not run)"} from ${b.ffmpegFrom}, ${encoders.length} encoders`;
    if (!version) out.push({ name: "ffmpeg", status: "fail", detail, hint: FFMPEG_INSTALL_HINT });
    else if (b.ffmpegFrom === "bundled" || b.ffmpeg.includes("@ffmpeg-installer")) {
      out.push({ name: "ffmpeg", status: "fail", detail: `${detail}: the bundled 2018 build has no ffprobe and crashes on HLS master playlists`, hint: FFMPEG_INSTALL_HINT });
    } else {
      const missing = VIDEO_ENCODERS.filter((e) => !encoders.includes(e));
      out.push(missing.length ? { name: "ffmpeg", status: "warn", detail: `${detail}; missing ${missing.join(", ")} (video jobs need them)`, hint: FFMPEG_INSTALL_HINT } : { name: "ffmpeg", status: "ok", detail });
      // What the node advertises for options.require: only devices that come up here.
      const usable = await usableHwaccels(b.ffmpeg, listed);
      const hwEncoders = usableEncoders(encoders, usable).filter((e) => encoderDevice(e) !== null);
      out.push({
        name: "hardware",
        status: "ok",
        detail: usable.length
          ? `${usable.join(", ")} usable (${hwEncoders.length} hardware encoders: ${hwEncoders.slice(0, 6).join(", ")}${hwEncoders.length > 6 ? ", …" : ""})`
          : `none usable: software encoding (${listed.length ? `this ffmpeg is built with ${listed.join(", ")}, but no device comes up` : "this ffmpeg has no hwaccels"})`,
      });
    }
  }
  // HEIC/HEIF (iPhone photos): decoded by libheif's heif-convert; without it the node does not advertise "heic" and never takes such a job.
  const heif = findHeifConvert();
  out.push(
    heif
      ? { name: "heic", status: "ok", detail: `${heif}: HEIC/HEIF photos decode here (advertised as the heic capability)` }
      : { name: "heic", status: "warn", detail: "heif-convert not found: HEIC/HEIF photos go to other nodes (this one does not advertise heic)", hint: HEIF_INSTALL_HINT },
  );
  if (!b.ffprobe) out.push({ name: "ffprobe", status: "fail", detail: "not found", hint: FFMPEG_INSTALL_HINT });
  else {
    const v = await ffmpegVersion(b.ffprobe);
    out.push(v ? { name: "ffprobe", status: "ok", detail: `${b.ffprobe} ${v}` } : { name: "ffprobe", status: "fail", detail: `${b.ffprobe} does not run`, hint: FFMPEG_INSTALL_HINT });
  }
  return out;
}

async function checkRedis(config: Config): Promise<Check> {
  if (!config.redisUrl) {
    const bin = findRedisServer();
    return bin
      ? { name: "redis", status: "ok", detail: `${bin} (serve starts a private one in the data dir; REDIS_URL unset)` }
      : { name: "redis", status: "fail", detail: "redis-server not found and REDIS_URL unset", hint: REDIS_INSTALL_HINT };
  }
  const shown = config.redisUrl.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
  const conn = createRedis(config.redisUrl, "producer", "medianode-doctor");
  try {
    await waitForRedis(conn, 2000);
    const policy = ((await conn.config("GET", "maxmemory-policy").catch(() => [])) as string[])[1];
    if (policy && policy !== "noeviction") {
      return { name: "redis", status: "fail", detail: `REDIS_URL ${shown} reachable, but maxmemory-policy is ${policy}`, hint: "set maxmemory-policy noeviction in redis.conf, or jobs can be lost" };
    }
    return { name: "redis", status: "ok", detail: `REDIS_URL ${shown} answers PONG${policy ? ", maxmemory-policy noeviction" : ""}` };
  } catch (e) {
    return { name: "redis", status: "fail", detail: `REDIS_URL ${shown} unreachable: ${(e as Error).message}`, hint: "start that Redis or fix REDIS_URL; unset it to use the embedded redis-server" };
  } finally {
    conn.disconnect();
  }
}

/** The data dir itself, or the nearest folder above it that exists (where it would be made). */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

function checkDataDir(config: Config): Check[] {
  const dir = config.dataDir;
  const exists = existsSync(dir);
  const at = existingAncestor(dir);
  const out: Check[] = [];
  try {
    accessSync(at, constants.W_OK);
    out.push({ name: "data dir", status: "ok", detail: exists ? `${dir} writable` : `${dir} does not exist yet; ${at} is writable, serve creates it` });
  } catch {
    out.push({ name: "data dir", status: "fail", detail: `${at} is not writable by this user`, hint: `chown it to the service user, or set --data-dir / MEDIANODE_DATA_DIR` });
  }
  try {
    const s = statfsSync(at);
    const free = s.bavail * s.bsize;
    const detail = `${formatBytes(free)} free on ${at}`;
    if (free < MIN_FREE_BYTES) out.push({ name: "disk", status: "fail", detail, hint: "free some space: the node refuses work below 512 MiB" });
    else if (free < LOW_FREE_BYTES) out.push({ name: "disk", status: "warn", detail, hint: "video outputs need several times the source size" });
    else out.push({ name: "disk", status: "ok", detail });
  } catch (e) {
    out.push({ name: "disk", status: "fail", detail: (e as Error).message });
  }
  return out;
}

/** With DATABASE_URL the records are in PostgreSQL: it must answer (SPEC §11). */
async function checkRecords(config: Config): Promise<Check> {
  if (!config.databaseUrl) return checkSqlite(config);
  const where = redactUrl(config.databaseUrl);
  try {
    const r = await openPostgres(config.databaseUrl, { max: 1 });
    await r.close();
    return { name: "postgres", status: "ok", detail: `${where} answers` };
  } catch (e) {
    return { name: "postgres", status: "fail", detail: (e as Error).message, hint: "check DATABASE_URL (host, port, user, database) and that PostgreSQL accepts this host" };
  }
}

function checkSqlite(config: Config): Check {
  const file = dbPath(config.dataDir);
  // Opening it as another user would leave a WAL the service cannot open: say so instead.
  const owner = dataDirOwnerProblem(config.dataDir, "doctor");
  if (owner) return { name: "sqlite", status: "fail", detail: `${file} not opened: ${owner}` };
  try {
    if (existsSync(config.dataDir)) {
      openDb(file).close();
      return { name: "sqlite", status: "ok", detail: `${file} opens (WAL)` };
    }
    // No data dir yet: do not create one from doctor; check the engine itself.
    new Database(":memory:").close();
    return { name: "sqlite", status: "ok", detail: `bun:sqlite works; ${file} is created at first start` };
  } catch (e) {
    return { name: "sqlite", status: "fail", detail: `${file}: ${(e as Error).message}`, hint: "check the file's owner and permissions, and that the disk is not full" };
  }
}

/** With MEDIANODE_BUS_URL the broker must answer and take the names serve declares (SPEC §13). */
async function checkBus(config: Config): Promise<Check | null> {
  const url = config.busUrl;
  if (!url) return null;
  try {
    return { name: "bus", status: "ok", detail: await reachBus({ ...config, busUrl: url }) };
  } catch (e) {
    return { name: "bus", status: "fail", detail: `${maskUrl(url)}: ${(e as Error).message}`, hint: "check MEDIANODE_BUS_URL (host, port, credentials, vhost) and, for NATS, that the server runs with JetStream (-js)" };
  }
}

async function portFree(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return await new Promise((resolve) => {
    const s = createServer();
    s.once("error", (e: NodeJS.ErrnoException) => resolve(e));
    s.listen(port, host, () => s.close(() => resolve(null)));
  });
}

/** MEDIANODE_MEDIA_URL: the bucket answers and takes the credentials (SPEC §11). */
async function checkBucket(config: Config): Promise<Check> {
  const c = await openBucket(config)!.check();
  return c.ok ? { name: "bucket", status: "ok", detail: c.detail } : { name: "bucket", status: "fail", detail: c.detail, hint: "check MEDIANODE_S3_ENDPOINT, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and that the bucket exists" };
}

async function checkPort(config: Config): Promise<Check> {
  const where = `${config.host}:${config.port}`;
  if (config.port === 0) return { name: "port", status: "ok", detail: "0: any free port" };
  const err = await portFree(config.host, config.port);
  if (!err) return { name: "port", status: "ok", detail: `${where} is free` };
  if (err.code === "EADDRINUSE") {
    const host = config.host === "0.0.0.0" ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
    const health = await fetch(`http://${host}:${config.port}/healthz`, { signal: AbortSignal.timeout(1000) })
      .then((r) => r.json() as Promise<unknown>)
      .catch(() => null);
    if ((health as { status?: unknown } | null)?.status === "ok") return { name: "port", status: "ok", detail: `${where} is in use by a running medianode` };
    return { name: "port", status: "fail", detail: `${where} is in use by another program`, hint: "stop it, or pick another port with --port / MEDIANODE_PORT" };
  }
  return { name: "port", status: "fail", detail: `${where}: ${err.code ?? err.message}`, hint: "check --host / MEDIANODE_HOST is an address of this machine" };
}

export async function runChecks(config: Config): Promise<Check[]> {
  const [ff, redis, records, port, bus] = await Promise.all([checkFfmpeg(config), checkRedis(config), checkRecords(config), checkPort(config), checkBus(config)]);
  return [...ff, redis, records, ...(bus ? [bus] : []), ...checkDataDir(config), port, ...(config.mediaUrl ? [await checkBucket(config)] : [])];
}

export function doctorCommand(ctx: Ctx): Command {
  return new Command("doctor")
    .description("check ffmpeg/ffprobe, Redis, SQLite or PostgreSQL, the message bus (when set), the data dir, free disk and the port; exit 1 if something essential fails")
    .option("--data-dir <dir>", "data folder (env MEDIANODE_DATA_DIR, default ./data)")
    .option("--port <port>", "HTTP port serve would use (env MEDIANODE_PORT, default 8080)")
    .option("--host <host>", "address serve would bind (env MEDIANODE_HOST, default 127.0.0.1)")
    .option("--json", "print {ok, checks:[{name, status, detail, hint}]}")
    .action(async (o: Record<string, unknown>) => {
      const config = loadConfig({ flags: definedFlags(o, ["dataDir", "port", "host"]), env: ctx.io.env });
      const checks = await runChecks(config);
      const ok = !checks.some((c) => c.status === "fail");
      if (o.json) printJson(ctx.io, { ok, checks });
      else {
        const label = { ok: "ok", warn: "WARN", fail: "FAIL" } as const;
        say(ctx.io, table(checks.map((c) => [label[c.status], c.name, c.detail + (c.hint ? ` (fix: ${c.hint})` : "")])));
        say(ctx.io, ok ? "\nall essential checks passed" : "\nsome essential checks failed: see the FAIL lines");
      }
      if (!ok) ctx.exitCode = 1;
    });
}
