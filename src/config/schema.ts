// Every configuration key, once: its env variable, type, default and meaning (SPEC §6).
// Imports nothing from src but the job type list (jobs/schema.ts, itself a leaf), so that any
// layer (and the CLI) can read it.
import type { JobType } from "../jobs/schema";

export type Role = "api" | "worker" | "monitor" | "metrics";
export const ALL_ROLES: readonly Role[] = ["api", "worker", "monitor", "metrics"];
export type LogFormat = "json" | "pretty";
export type LogLevel = "debug" | "info" | "warn" | "error";

type Kind = "string" | "url" | "int" | "bytes" | "roles" | "list" | "cidrs" | "capabilities" | "concurrency" | "enum" | "s3url";

/**
 * A capability name: an ffmpeg encoder or hwaccel name as ffmpeg prints it (libsvtav1,
 * h264_nvenc, libvpx-vp9, cuda), or an operator label (gpu, fast-disk). Lower case only, so
 * "GPU" and "gpu" can never be two different things; no ":" "," "@" (queue names use those).
 */
export const CAPABILITY_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$";

/** A metadata key a query may filter or group on: top-level, inlined in SQL, so kept to safe characters. */
export const METADATA_KEY_PATTERN = "^[A-Za-z0-9_-]{1,64}$";

export interface KeySpec<K extends Kind = Kind> {
  env: string;
  kind: K;
  doc: string;
  /** Allowed values for `enum` keys. */
  values?: readonly string[];
  /** Smallest value (int, bytes) or length (string). */
  min?: number;
  /** A `string` key's value must match this (e.g. a URL scheme). */
  pattern?: string;
  /** For URL-valued `string` keys: the schemes allowed. */
  protocols?: readonly string[];
  /** Never printed in full (`medianode config` masks it). */
  secret?: boolean;
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
  indexedMetadata: { env: "MEDIANODE_INDEXED_METADATA", kind: "list", pattern: METADATA_KEY_PATTERN, doc: "Top-level metadata keys given an index at start (e.g. store,uid): GET /v1/jobs?metadata.<key>= and /v1/stats?groupBy=metadata.<key> on them stay fast at millions of jobs; other keys still filter, by scanning." },
  jwtSecret: { env: "MEDIANODE_JWT_SECRET", kind: "string", secret: true, doc: "HS256 secret for tenant JWTs." },
  ffmpegPath: { env: "MEDIANODE_FFMPEG_PATH", kind: "string", doc: "ffmpeg binary; else PATH, else the bundled build." },
  ffprobePath: { env: "MEDIANODE_FFPROBE_PATH", kind: "string", doc: "ffprobe binary; else PATH." },
  retentionDays: { env: "MEDIANODE_RETENTION_DAYS", kind: "int", min: 0, doc: "Finished jobs older than this are removed (0 = keep)." },
  logLevel: { env: "MEDIANODE_LOG_LEVEL", kind: "enum", values: ["debug", "info", "warn", "error"], doc: "Lowest level logged." },
  logFormat: { env: "MEDIANODE_LOG_FORMAT", kind: "enum", values: ["json", "pretty"], doc: "json lines or pretty text." },
  attempts: { env: "MEDIANODE_ATTEMPTS", kind: "int", min: 1, doc: "Default attempts per job." },
  workerThreads: { env: "MEDIANODE_WORKER_THREADS", kind: "int", min: 1, doc: "Threads in the media pool (default: cores)." },
  server: { env: "MEDIANODE_SERVER", kind: "string", doc: "worker: api node URL for the HTTP store." },
  token: { env: "MEDIANODE_TOKEN", kind: "string", secret: true, doc: "API token (CLI, remote worker)." },
  url: { env: "MEDIANODE_URL", kind: "string", doc: "CLI: the server to talk to." },
  webhookSecret: { env: "MEDIANODE_WEBHOOK_SECRET", kind: "string", secret: true, doc: "Signs per-job webhook URLs; unset: made once per cluster and kept in the records (cluster_secrets)." },
  rateLimitPerToken: { env: "MEDIANODE_RATE_LIMIT_PER_TOKEN", kind: "int", min: 0, doc: "Requests per second per token (bursts of 4×); 0 = off." },
  rateLimitPerIp: { env: "MEDIANODE_RATE_LIMIT_PER_IP", kind: "int", min: 0, doc: "Requests per second per client IP (bursts of 4×); 0 = off." },
  corsOrigins: { env: "MEDIANODE_CORS_ORIGINS", kind: "list", doc: "Origins allowed to call the API from a browser (default: none)." },
  streamListenersPerToken: { env: "MEDIANODE_STREAM_LISTENERS_PER_TOKEN", kind: "int", min: 0, doc: "Live audio streams one token may have open at once on all monitors (SPEC §12); 0 = no limit." },
  wsBufferBytes: { env: "MEDIANODE_WS_BUFFER_BYTES", kind: "bytes", min: 1024, doc: "Unsent events a WebSocket client may fall behind by before it is closed (1013)." },
  shutdownGraceSec: { env: "MEDIANODE_SHUTDOWN_GRACE_SEC", kind: "int", min: 0, doc: "On SIGTERM, running jobs get this long to finish; then they are handed back to the queue. Keep systemd's TimeoutStopSec above it." },
  lockSec: { env: "MEDIANODE_LOCK_SEC", kind: "int", min: 2, doc: "Job lock (renewed every half of it while the worker lives); a dead worker's job returns after it plus half of it. Lower only to test takeover." },
  playbackSecret: { env: "MEDIANODE_PLAYBACK_SECRET", kind: "string", min: 32, secret: true, doc: "Signs playback URLs (/p/...); unset: made once per cluster and kept in the records (cluster_secrets), so every api node has the same." },
  playbackMaxTtlSec: { env: "MEDIANODE_PLAYBACK_MAX_TTL_SEC", kind: "int", min: 1, doc: "Longest lifetime a playback URL may be given (?ttl=), in seconds." },
  playbackBaseUrl: { env: "MEDIANODE_PLAYBACK_BASE_URL", kind: "url", doc: "Origin playback URLs are built on (e.g. a CDN in front: https://media.example.com); default: the origin the /playback request came to." },
  webhookBackoffMs: { env: "MEDIANODE_WEBHOOK_BACKOFF_MS", kind: "int", min: 10, doc: "First webhook retry delay; it doubles, attempts span 24 h." },
  trustedProxies: { env: "MEDIANODE_TRUSTED_PROXIES", kind: "cidrs", doc: "Reverse proxies (IPs/CIDRs) whose X-Forwarded-For/-Proto/-Host are believed, for per-IP limits, logs and the URLs the node writes (default: none)." },
  requireSetsPerTenant: { env: "MEDIANODE_REQUIRE_SETS_PER_TENANT", kind: "int", min: 1, doc: "Distinct options.require sets one tenant may have in use at once (422 beyond); a set unused for MEDIANODE_REQUIRE_SET_IDLE_SEC is freed." },
  requireSetIdleSec: { env: "MEDIANODE_REQUIRE_SET_IDLE_SEC", kind: "int", min: 1, doc: "An options.require set with no queued or running job, not submitted to for this long, no longer counts against its tenant or the cluster." },
  maxDurationSec: { env: "MEDIANODE_MAX_DURATION_SEC", kind: "int", min: 1, doc: "Longest source (probed duration) a job accepts; longer is INVALID_INPUT." },
  maxFramePixels: { env: "MEDIANODE_MAX_FRAME_PIXELS", kind: "int", min: 1, doc: "Largest video frame (width × height) a job accepts; larger is INVALID_INPUT." },
  minSourceBytesPerSec: { env: "MEDIANODE_MIN_SOURCE_BYTES_PER_SEC", kind: "int", min: 0, doc: "A source holding fewer bytes per second of its probed duration is refused (INVALID_INPUT): a tiny file claiming hours of media; 0 = off." },
  logRetentionDays: { env: "MEDIANODE_LOG_RETENTION_DAYS", kind: "int", min: 0, doc: "Webhook deliveries (with their attempts) and audit entries older than this are pruned (0 = keep)." },
  minFreeBytes: { env: "MEDIANODE_MIN_FREE_BYTES", kind: "bytes", min: 0, doc: "An upload is refused (507) when the media store has less free space than this (plus the upload's declared size)." },
  maxUploadsPerToken: { env: "MEDIANODE_MAX_UPLOADS_PER_TOKEN", kind: "int", min: 1, doc: "Uploads one token may stream at once (429 beyond)." },
  wsMessagesPerSec: { env: "MEDIANODE_WS_MESSAGES_PER_SEC", kind: "int", min: 1, doc: "Messages a WebSocket client may send per second (bursts of 4×); beyond, it is closed (1008)." },
  wsMaxSubscriptions: { env: "MEDIANODE_WS_MAX_SUBSCRIPTIONS", kind: "int", min: 1, doc: "Jobs one WebSocket connection may subscribe to at once." },
  databaseUrl: { env: "DATABASE_URL", kind: "string", pattern: "^postgres(ql)?://", doc: "postgres://user@host/db: PostgreSQL holds every record instead of <data>/medianode.db (SPEC §11)." },
  // Media in an S3-compatible bucket (SPEC §11).
  mediaUrl: { env: "MEDIANODE_MEDIA_URL", kind: "s3url", doc: "Where sources and outputs live: unset, <data>/media; s3://bucket/prefix, an S3-compatible bucket shared by every api node and worker." },
  s3Endpoint: { env: "MEDIANODE_S3_ENDPOINT", kind: "url", doc: "S3 endpoint for MEDIANODE_MEDIA_URL (MinIO, R2, Garage...), addressed path-style; unset: AWS S3 of AWS_REGION. Clients follow presigned redirects to it." },
  s3AccessKeyId: { env: "AWS_ACCESS_KEY_ID", kind: "string", secret: true, doc: "Access key of the media bucket." },
  s3SecretAccessKey: { env: "AWS_SECRET_ACCESS_KEY", kind: "string", secret: true, doc: "Secret key of the media bucket." },
  s3Region: { env: "AWS_REGION", kind: "string", doc: "Region of the media bucket." },
  busUrl: { env: "MEDIANODE_BUS_URL", kind: "string", pattern: "^(amqps?|nats|tls)://", secret: true, doc: "Message bus the api nodes bridge (SPEC §13): amqp://user:pass@host:5672/vhost (RabbitMQ) or nats://host:4222 (NATS with JetStream); unset: no bridge." },
  busPrefix: { env: "MEDIANODE_BUS_PREFIX", kind: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", doc: "First part of every bus name: queues, exchanges, subjects; the JetStream stream is its upper-case form." },
  busPrefetch: { env: "MEDIANODE_BUS_PREFETCH", kind: "int", min: 1, doc: "Job messages one api node holds unacknowledged at once (AMQP prefetch; NATS pull batch)." },
  busAckWaitSec: { env: "MEDIANODE_BUS_ACK_WAIT_SEC", kind: "int", min: 1, doc: "NATS: a job message not acknowledged this long is redelivered (the consumer's ack_wait; AMQP redelivers when the connection ends)." },
  busAckDelayMs: { env: "MEDIANODE_BUS_ACK_DELAY_MS", kind: "int", min: 0, doc: "Test hook: wait this long between recording a bus job and acknowledging its message (crash-window tests); keep 0." },
  smtpUrl: { env: "MEDIANODE_SMTP_URL", kind: "string", protocols: ["smtp:", "smtps:"], doc: "Mail server for email notifications: smtp://user:pass@host:587 (STARTTLS when offered; ?requireTLS=true insists) or smtps://host:465; unset: email notifications are refused." },
  mailFrom: { env: "MEDIANODE_MAIL_FROM", kind: "string", doc: "From address of notification mails, e.g. \"medianode <media@example.com>\"." },
  publicUrl: { env: "MEDIANODE_PUBLIC_URL", kind: "url", doc: "The node's address as users reach it (links in notification mails; default http://<host>:<port>)." },
  vapidSubject: { env: "MEDIANODE_VAPID_SUBJECT", kind: "string", protocols: ["mailto:", "https:"], doc: "Web Push VAPID contact (mailto: or https:); default mailto:<MEDIANODE_MAIL_FROM's address>." },
  vapidPublicKey: { env: "MEDIANODE_VAPID_PUBLIC_KEY", kind: "string", doc: "Web Push VAPID public key (base64url), with the private key. Unset: the pair is made once per cluster and kept in the records (cluster_secrets)." },
  vapidPrivateKey: { env: "MEDIANODE_VAPID_PRIVATE_KEY", kind: "string", secret: true, doc: "Web Push VAPID private key (base64url), with MEDIANODE_VAPID_PUBLIC_KEY." },
  pushTtlSec: { env: "MEDIANODE_PUSH_TTL_SEC", kind: "int", min: 0, doc: "How long a push service keeps an undelivered Web Push notification (TTL header)." },
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
  indexedMetadata: string[];
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
  smtpUrl: string | undefined;
  mailFrom: string | undefined;
  publicUrl: string | undefined;
  vapidSubject: string | undefined;
  vapidPublicKey: string | undefined;
  vapidPrivateKey: string | undefined;
  pushTtlSec: number;
  playbackSecret: string | undefined;
  playbackMaxTtlSec: number;
  playbackBaseUrl: string | undefined;
  shutdownGraceSec: number;
  lockSec: number;
  rateLimitPerToken: number;
  rateLimitPerIp: number;
  corsOrigins: string[];
  wsBufferBytes: number;
  trustedProxies: string[];
  requireSetsPerTenant: number;
  requireSetIdleSec: number;
  maxDurationSec: number;
  maxFramePixels: number;
  minSourceBytesPerSec: number;
  logRetentionDays: number;
  minFreeBytes: number;
  maxUploadsPerToken: number;
  wsMessagesPerSec: number;
  wsMaxSubscriptions: number;
  databaseUrl: string | undefined;
  mediaUrl: string | undefined;
  s3Endpoint: string | undefined;
  s3AccessKeyId: string | undefined;
  s3SecretAccessKey: string | undefined;
  s3Region: string;
  streamListenersPerToken: number;
  busUrl: string | undefined;
  busPrefix: string;
  busPrefetch: number;
  busAckWaitSec: number;
  busAckDelayMs: number;
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
    indexedMetadata: [],
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
    smtpUrl: undefined,
    mailFrom: undefined,
    publicUrl: undefined,
    vapidSubject: undefined,
    vapidPublicKey: undefined,
    vapidPrivateKey: undefined,
    pushTtlSec: 86400,
    playbackSecret: undefined,
    playbackMaxTtlSec: 7 * 86_400,
    playbackBaseUrl: undefined,
    shutdownGraceSec: 30,
    lockSec: 20,
    rateLimitPerToken: 100,
    rateLimitPerIp: 200,
    corsOrigins: [],
    wsBufferBytes: 1024 * 1024,
    trustedProxies: [],
    requireSetsPerTenant: 8,
    requireSetIdleSec: 600,
    maxDurationSec: 6 * 3600,
    maxFramePixels: 7680 * 4320,
    minSourceBytesPerSec: 16,
    logRetentionDays: 30,
    minFreeBytes: 256 * 1024 * 1024,
    maxUploadsPerToken: 16,
    wsMessagesPerSec: 20,
    wsMaxSubscriptions: 1000,
    databaseUrl: undefined,
    mediaUrl: undefined,
    s3Endpoint: undefined,
    s3AccessKeyId: undefined,
    s3SecretAccessKey: undefined,
    s3Region: "us-east-1",
    streamListenersPerToken: 10,
    busUrl: undefined,
    busPrefix: "medianode",
    busPrefetch: 16,
    busAckWaitSec: 30,
    busAckDelayMs: 0,
  };
}
