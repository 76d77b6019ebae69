// The typed /v1 HTTP client of the CLI: finds the server and the token (SPEC §5), turns a
// refused connection into UnreachableError (exit 3) and error bodies into ApiError (exit 1).
import { existsSync, readFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import type { JobType } from "../src/jobs/schema";
import type { Job, JobList } from "../src/jobs/schema";
import type { PlaybackView } from "../src/api/playback/schema";
import type { TypeCounts } from "../src/queue/queues";
import { ApiError, UnreachableError, UsageError } from "./output";

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** The options every client command takes. */
export interface ClientFlags {
  url?: string;
  token?: string;
  dataDir?: string;
}

export interface ClientSettings {
  url: string;
  token: string | null;
  /** Where the token came from, for the hint on a 401. */
  tokenFrom: "--token" | "MEDIANODE_TOKEN" | "admin.token" | null;
}

/** --url / MEDIANODE_URL / default; --token / MEDIANODE_TOKEN / <data>/admin.token. */
export function clientSettings(flags: ClientFlags, env: Record<string, string | undefined>): ClientSettings {
  const raw = flags.url ?? (env.MEDIANODE_URL || DEFAULT_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(raw)} (--url or MEDIANODE_URL, e.g. ${DEFAULT_URL})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be http(s), got ${raw}`);
  const base = url.toString().replace(/\/+$/, "");
  if (flags.token) return { url: base, token: flags.token, tokenFrom: "--token" };
  if (env.MEDIANODE_TOKEN) return { url: base, token: env.MEDIANODE_TOKEN, tokenFrom: "MEDIANODE_TOKEN" };
  const file = join(resolve(flags.dataDir ?? (env.MEDIANODE_DATA_DIR || "./data")), "admin.token");
  if (existsSync(file)) {
    try {
      const t = readFileSync(file, "utf8").trim();
      if (t) return { url: base, token: t, tokenFrom: "admin.token" };
    } catch {
      // unreadable (another user's 0600 file): go on without, the server answers 401
    }
  }
  return { url: base, token: null, tokenFrom: null };
}

/** One line of GET /v1/queues: a type's counts over all its queues. */
export type QueueCounts = TypeCounts & { name: string };

export interface SubmitFields {
  type: JobType;
  options?: Record<string, unknown>;
  priority?: number;
  metadata?: unknown;
}

export interface ListQuery {
  status?: string;
  type?: string;
  limit?: number;
  cursor?: string;
}

// Content-Type of an upload from its extension. Bun's own table maps .ts/.mts to TypeScript.
const UPLOAD_MIME: Record<string, string> = {
  jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png", apng: "image/apng", webp: "image/webp", gif: "image/gif",
  avif: "image/avif", heic: "image/heic", heif: "image/heif", tif: "image/tiff", tiff: "image/tiff", svg: "image/svg+xml",
  bmp: "image/bmp", jxl: "image/jxl",
  mp3: "audio/mpeg", aac: "audio/aac", m4a: "audio/mp4", flac: "audio/flac", ogg: "audio/ogg", oga: "audio/ogg",
  opus: "audio/ogg", wav: "audio/wav", weba: "audio/webm",
  mp4: "video/mp4", m4v: "video/mp4", mov: "video/quicktime", mkv: "video/x-matroska", webm: "video/webm",
  avi: "video/x-msvideo", ts: "video/mp2t", mts: "video/mp2t", m2ts: "video/mp2t", "3gp": "video/3gpp",
  ogv: "video/ogg", flv: "video/x-flv", wmv: "video/x-ms-wmv", mpg: "video/mpeg", mpeg: "video/mpeg",
};

export function mimeForUpload(path: string): string {
  return UPLOAD_MIME[extname(path).slice(1).toLowerCase()] ?? "application/octet-stream";
}

export interface Client {
  readonly url: string;
  readonly settings: ClientSettings;
  submitFile(path: string, f: SubmitFields): Promise<Job>;
  submitUrl(url: string, f: SubmitFields): Promise<Job>;
  getJob(id: string): Promise<Job>;
  listJobs(q: ListQuery): Promise<JobList>;
  cancelJob(id: string): Promise<Job>;
  retryJob(id: string): Promise<Job>;
  queues(): Promise<QueueCounts[]>;
  pauseQueue(name: string, pause: boolean): Promise<{ name: string; paused: boolean }>;
  nodes(): Promise<unknown>;
  /** POST /v1/notifications: a webhook, email or Web Push subscription. */
  addNotification(body: { channel: string; to: unknown; events?: string[]; secret?: string }): Promise<NotificationView>;
  listNotifications(): Promise<NotificationView[]>;
  removeNotification(id: string): Promise<void>;
  /** Playback URLs of a completed job (SPEC §10); ttl in seconds, default the server's (24 h). */
  playback(id: string, ttlSec?: number): Promise<PlaybackView>;
  /** Absolute URL of a path the server returned (output urls are relative). */
  absolute(path: string): string;
}

function asObject(x: unknown, what: string): Record<string, unknown> {
  if (x === null || typeof x !== "object" || Array.isArray(x)) throw new ApiError(0, "BAD_RESPONSE", `the server sent something that is not ${what}`);
  return x as Record<string, unknown>;
}

/** The one boundary check of a job body: the fields the CLI relies on. */
function asJob(x: unknown): Job {
  const o = asObject(x, "a job");
  if (typeof o.id !== "string" || typeof o.status !== "string" || typeof o.progress !== "number" || !Array.isArray(o.outputs)) {
    throw new ApiError(0, "BAD_RESPONSE", "the server sent a job without id/status/progress/outputs");
  }
  return o as unknown as Job;
}

/** A subscription as the server shows it (GET /v1/notifications). */
export interface NotificationView {
  id: string;
  channel: string;
  to: string;
  events: string[];
  createdAt: string;
  state: string;
  consecutiveFailures: number;
  secret?: string;
}

function asNotification(x: unknown): NotificationView {
  const o = asObject(x, "a notification");
  if (typeof o.id !== "string" || typeof o.channel !== "string" || typeof o.to !== "string" || !Array.isArray(o.events)) {
    throw new ApiError(0, "BAD_RESPONSE", "the server sent a notification without id/channel/to/events");
  }
  return o as unknown as NotificationView;
}

function asPlayback(x: unknown): PlaybackView {
  const o = asObject(x, "playback URLs");
  const urlOrNull = (v: unknown) => v === null || typeof v === "string";
  if (typeof o.base !== "string" || typeof o.expiresAt !== "string" || !urlOrNull(o.hls) || !urlOrNull(o.mp4) || !urlOrNull(o.poster)) {
    throw new ApiError(0, "BAD_RESPONSE", "the server sent playback URLs without base/expiresAt/hls/mp4/poster");
  }
  return o as unknown as PlaybackView;
}

export function createClient(settings: ClientSettings, fetchImpl: typeof fetch = fetch): Client {
  const base = settings.url;

  async function call(method: string, path: string, init: { body?: RequestInit["body"]; headers?: Record<string, string> } = {}): Promise<unknown> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (settings.token) headers.authorization = `Bearer ${settings.token}`;
    let res: Response;
    try {
      res = await fetchImpl(base + path, { method, headers, body: init.body });
    } catch (e) {
      throw new UnreachableError(base, e);
    }
    const text = await res.text().catch(() => "");
    let body: unknown = undefined;
    try {
      body = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      // not JSON: a proxy's HTML page, say
    }
    if (!res.ok) {
      const err = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
      if (err && typeof err.code === "string") throw new ApiError(res.status, err.code, typeof err.message === "string" ? err.message : err.code, err.details);
      throw new ApiError(res.status, `HTTP_${res.status}`, `${method} ${path}: ${res.statusText || "error"}${text && !body ? `: ${text.slice(0, 200)}` : ""}`);
    }
    return body;
  }

  const json = (method: string, path: string, value: unknown) =>
    call(method, path, { body: JSON.stringify(value), headers: { "content-type": "application/json" } });
  const enc = encodeURIComponent;

  return {
    url: base,
    settings,
    async submitFile(path, f) {
      const q = new URLSearchParams({ type: f.type, filename: basename(path) });
      if (f.options !== undefined) q.set("options", JSON.stringify(f.options));
      if (f.metadata !== undefined) q.set("metadata", JSON.stringify(f.metadata));
      if (f.priority !== undefined) q.set("priority", String(f.priority));
      // Bun.file streams from disk: memory does not grow with the file size.
      return asJob(await call("POST", `/v1/jobs?${q}`, { body: Bun.file(path), headers: { "content-type": mimeForUpload(path) } }));
    },
    async submitUrl(url, f) {
      return asJob(await json("POST", "/v1/jobs", { type: f.type, source: { url }, options: f.options, priority: f.priority, metadata: f.metadata }));
    },
    getJob: async (id) => asJob(await call("GET", `/v1/jobs/${enc(id)}`)),
    async listJobs(q) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
      const o = asObject(await call("GET", `/v1/jobs${p.size ? `?${p}` : ""}`), "a job list");
      if (!Array.isArray(o.items)) throw new ApiError(0, "BAD_RESPONSE", "job list without items");
      return { items: o.items.map(asJob), nextCursor: typeof o.nextCursor === "string" ? o.nextCursor : null };
    },
    cancelJob: async (id) => asJob(await call("DELETE", `/v1/jobs/${enc(id)}`)),
    retryJob: async (id) => asJob(await call("POST", `/v1/jobs/${enc(id)}/retry`)),
    async queues() {
      const o = asObject(await call("GET", "/v1/queues"), "a queue list");
      if (!Array.isArray(o.items)) throw new ApiError(0, "BAD_RESPONSE", "queue list without items");
      return o.items as QueueCounts[];
    },
    async pauseQueue(name, pause) {
      return asObject(await call("POST", `/v1/queues/${enc(name)}/${pause ? "pause" : "resume"}`), "a queue") as { name: string; paused: boolean };
    },
    nodes: () => call("GET", "/v1/nodes"),
    addNotification: async (body) => asNotification(await json("POST", "/v1/notifications", body)),
    async listNotifications() {
      const o = asObject(await call("GET", "/v1/notifications"), "a notification list");
      if (!Array.isArray(o.items)) throw new ApiError(0, "BAD_RESPONSE", "notification list without items");
      return o.items.map(asNotification);
    },
    async removeNotification(id) {
      await call("DELETE", `/v1/notifications/${enc(id)}`);
    },
    playback: async (id, ttlSec) => asPlayback(await call("GET", `/v1/jobs/${enc(id)}/playback${ttlSec === undefined ? "" : `?ttl=${ttlSec}`}`)),
    absolute: (path) => (/^https?:\/\//.test(path) ? path : base + path),
  };
}
