// Every configuration key, once: its env variable, type, default and meaning (SPEC §6).
// Imports nothing from src but the job type list (jobs/schema.ts, itself a leaf), so that any
// layer (and the CLI) can read it.
import type { JobType } from "../jobs/schema";

export type Role = "api" | "worker" | "monitor" | "metrics";
export const ALL_ROLES: readonly Role[] = ["api", "worker", "monitor", "metrics"];
export type LogFormat = "json" | "pretty";
export type LogLevel = "debug" | "info" | "warn" | "error";

type Kind = "string" | "int" | "bytes" | "roles" | "list" | "capabilities" | "concurrency" | "enum" | "bool";

/**
 * A capability name: an ffmpeg encoder or hwaccel name as ffmpeg prints it (libsvtav1,
 * h264_nvenc, libvpx-vp9, cuda), or an operator label (gpu, fast-disk). Lower case only, so
 * "GPU" and "gpu" can never be two different things; no ":" "," "@" (queue names use those).
 */
export const CAPABILITY_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$";

export interface KeySpec<K extends Kind = Kind> {
  env: string;
  kind: K;
  doc: string;
  /** Allowed values for `enum` keys. */
  values?: readonly string[];
  min?: number;
}

export const CONFIG_KEYS = {
  host: { env: "MEDIANODE_HOST", kind: "string", doc: "Address the HTTP server binds to." },
  port: { env: "MEDIANODE_PORT", kind: "int", min: 0, doc: "HTTP port (serve: 8080, worker: 8081)." },
  dataDir: { env: "MEDIANODE_DATA_DIR", kind: "string", doc: "Data folder: SQLite, media, admin.token, embedded Redis." },
  redisUrl: { env: "REDIS_URL", kind: "string", doc: "Redis to use; unset: serve supervises a private redis-server." },
  roles: { env: "MEDIANODE_ROLES", kind: "roles", doc: "Comma list of api,worker,monitor,metrics." },
  capabilities: { env: "MEDIANODE_CAPABILITIES", kind: "capabilities", doc: "Operator labels this node adds to its advert (e.g. gpu,fast-disk); a job's options.require may name them." },
  concurrency: { env: "MEDIANODE_CONCURRENCY", kind: "concurrency", doc: "Per job type, e.g. video=1,image=4." },
  maxUploadBytes: { env: "MEDIANODE_MAX_UPLOAD_BYTES", kind: "bytes", min: 1, doc: "Largest accepted upload or URL download." },
  jobTimeoutSec: { env: "MEDIANODE_JOB_TIMEOUT_SEC", kind: "int", min: 1, doc: "A job running longer is killed (TIMEOUT)." },
  stallSec: { env: "MEDIANODE_STALL_SEC", kind: "int", min: 1, doc: "An ffmpeg without progress this long is killed (TIMEOUT)." },
  importDirs: { env: "MEDIANODE_IMPORT_DIRS", kind: "list", doc: "Folders a `{path}` source may be read from." },
  urlAllowlist: { env: "MEDIANODE_URL_ALLOWLIST", kind: "list", doc: "Hosts/CIDRs a URL source may reach despite SSRF rules." },
  jwtSecret: { env: "MEDIANODE_JWT_SECRET", kind: "string", doc: "HS256 secret for tenant JWTs." },
  ffmpegPath: { env: "MEDIANODE_FFMPEG_PATH", kind: "string", doc: "ffmpeg binary; else PATH, else the bundled build." },
  ffprobePath: { env: "MEDIANODE_FFPROBE_PATH", kind: "string", doc: "ffprobe binary; else PATH." },
  retentionDays: { env: "MEDIANODE_RETENTION_DAYS", kind: "int", min: 0, doc: "Finished jobs older than this are removed (0 = keep)." },
  logLevel: { env: "MEDIANODE_LOG_LEVEL", kind: "enum", values: ["debug", "info", "warn", "error"], doc: "Lowest level logged." },
  logFormat: { env: "MEDIANODE_LOG_FORMAT", kind: "enum", values: ["json", "pretty"], doc: "json lines or pretty text." },
  attempts: { env: "MEDIANODE_ATTEMPTS", kind: "int", min: 1, doc: "Default attempts per job." },
  workerThreads: { env: "MEDIANODE_WORKER_THREADS", kind: "int", min: 1, doc: "Threads in the media pool (default: cores)." },
  server: { env: "MEDIANODE_SERVER", kind: "string", doc: "worker: api node URL for the HTTP store." },
  token: { env: "MEDIANODE_TOKEN", kind: "string", doc: "API token (CLI, remote worker)." },
  url: { env: "MEDIANODE_URL", kind: "string", doc: "CLI: the server to talk to." },
  webhookSecret: { env: "MEDIANODE_WEBHOOK_SECRET", kind: "string", doc: "Signs per-job webhook URLs (default: <data>/webhook.secret, made at first start)." },
  rateLimitPerToken: { env: "MEDIANODE_RATE_LIMIT_PER_TOKEN", kind: "int", min: 0, doc: "Requests per second per token (bursts of 4×); 0 = off." },
  rateLimitPerIp: { env: "MEDIANODE_RATE_LIMIT_PER_IP", kind: "int", min: 0, doc: "Requests per second per client IP (bursts of 4×); 0 = off." },
  corsOrigins: { env: "MEDIANODE_CORS_ORIGINS", kind: "list", doc: "Origins allowed to call the API from a browser (default: none)." },
  streamListenersPerToken: { env: "MEDIANODE_STREAM_LISTENERS_PER_TOKEN", kind: "int", min: 0, doc: "Live audio streams one token may have open at once on all monitors (SPEC §12); 0 = no limit." },
  wsBufferBytes: { env: "MEDIANODE_WS_BUFFER_BYTES", kind: "bytes", min: 1024, doc: "Unsent events a WebSocket client may fall behind by before it is closed (1013)." },
  shutdownGraceSec: { env: "MEDIANODE_SHUTDOWN_GRACE_SEC", kind: "int", min: 0, doc: "On SIGTERM, running jobs get this long to finish; then they are handed back to the queue. Keep systemd's TimeoutStopSec above it." },
  lockSec: { env: "MEDIANODE_LOCK_SEC", kind: "int", min: 2, doc: "Job lock (renewed every half of it while the worker lives); a dead worker's job returns after it plus half of it. Lower only to test takeover." },
  webhookBackoffMs: { env: "MEDIANODE_WEBHOOK_BACKOFF_MS", kind: "int", min: 10, doc: "First webhook retry delay; it doubles, attempts span 24 h." },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof CONFIG_KEYS;


export interface Config {
  host: string;
  port: number;
  dataDir: string;
  redisUrl: string | undefined;
  roles: Role[];
  capabilities: string[];
  concurrency: Record<JobType, number>;
  maxUploadBytes: number;
  jobTimeoutSec: number;
  stallSec: number;
  importDirs: string[];
  urlAllowlist: string[];
  jwtSecret: string | undefined;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  retentionDays: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  attempts: number;
  workerThreads: number;
  server: string | undefined;
  token: string | undefined;
  url: string;
  webhookSecret: string | undefined;
  webhookBackoffMs: number;
  shutdownGraceSec: number;
  lockSec: number;
  rateLimitPerToken: number;
  rateLimitPerIp: number;
  corsOrigins: string[];
  wsBufferBytes: number;
  streamListenersPerToken: number;
}

export const GIB = 1024 ** 3;

export function defaultConfig(cores: number): Config {
  return {
    host: "127.0.0.1",
    port: 8080,
    dataDir: "./data",
    redisUrl: undefined,
    roles: [...ALL_ROLES],
    capabilities: [],
    concurrency: { probe: 4, image: Math.max(1, cores), video: 1, audio: 2, thumbnail: 2 },
    maxUploadBytes: 10 * GIB,
    jobTimeoutSec: 6 * 3600,
    stallSec: 120,
    importDirs: [],
    urlAllowlist: [],
    jwtSecret: undefined,
    ffmpegPath: undefined,
    ffprobePath: undefined,
    retentionDays: 0,
    logLevel: "info",
    logFormat: "json",
    attempts: 3,
    workerThreads: Math.max(2, cores),
    server: undefined,
    token: undefined,
    url: "http://127.0.0.1:8080",
    webhookSecret: undefined,
    webhookBackoffMs: 5000,
    shutdownGraceSec: 30,
    lockSec: 20,
    rateLimitPerToken: 100,
    rateLimitPerIp: 200,
    corsOrigins: [],
    wsBufferBytes: 1024 * 1024,
    streamListenersPerToken: 10,
  };
}
