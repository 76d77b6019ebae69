import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import ipaddr from "ipaddr.js";
import {
  ALL_ROLES,
  CONFIG_KEYS,
  defaultConfig,
  type Config,
  type ConfigKey,
  type KeySpec,
  type Role,
  CAPABILITY_PATTERN,
} from "./schema";
import { JOB_TYPES, type JobType } from "../jobs/schema";

/** A bad configuration value; the message names the variable (SPEC §6). */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

type Raw = string | number | boolean | string[] | Record<string, unknown> | undefined;

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };

function parseInt10(name: string, raw: Raw, min = 0): number {
  const n = typeof raw === "number" ? raw : /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw new ConfigError(name, `expected a whole number, got ${JSON.stringify(raw)}`);
  if (n < min) throw new ConfigError(name, `must be at least ${min}, got ${n}`);
  return n;
}

export function parseBytes(name: string, raw: Raw, min = 1): number {
  if (typeof raw === "number") return parseInt10(name, raw, min);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(String(raw));
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new ConfigError(name, `expected a size like 10GiB or 1048576, got ${JSON.stringify(raw)}`);
  const n = Math.floor(Number(m[1]) * unit);
  if (n < min) throw new ConfigError(name, `must be at least ${min} bytes`);
  return n;
}

function parseList(raw: Raw): string[] {
  if (Array.isArray(raw)) return raw.map(String).filter(Boolean);
  // Commas separate; a colon does too (PATH style) unless it is part of a URL or an IPv6 address.
  const text = String(raw);
  return text
    .split(/[a-z]+:\/\//i.test(text) || /[0-9a-f]*:[0-9a-f]*:/i.test(text) ? /,/ : /[,:]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** IPs and CIDRs (10.0.0.0/8, ::1, 192.168.1.5), each checked; a bare IP is a /32 or /128. */
function parseCidrs(name: string, raw: Raw): string[] {
  const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(",").map((s) => s.trim()).filter(Boolean);
  for (const c of list) {
    const ok = c.includes("/") ? ipaddr.isValidCIDR(c) : ipaddr.isValid(c);
    if (!ok) throw new ConfigError(name, `"${c}" is not an IP address or CIDR (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`);
  }
  return list;
}

function parseCapabilities(name: string, raw: Raw): string[] {
  const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(",").map((s) => s.trim()).filter(Boolean);
  const re = new RegExp(CAPABILITY_PATTERN);
  for (const c of list) {
    if (!re.test(c)) throw new ConfigError(name, `invalid capability "${c}": lower-case letters, digits, "_" and "-", up to 64 characters`);
  }
  return [...new Set(list)].sort();
}

function parseRoles(name: string, raw: Raw): Role[] {
  const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new ConfigError(name, "needs at least one role");
  for (const r of list) {
    if (!(ALL_ROLES as readonly string[]).includes(r)) throw new ConfigError(name, `unknown role "${r}" (roles: ${ALL_ROLES.join(", ")})`);
  }
  return [...new Set(list)] as Role[];
}

export function parseConcurrency(name: string, raw: Raw, base: Record<JobType, number>): Record<JobType, number> {
  const out = { ...base };
  const entries: [string, unknown][] =
    raw !== null && typeof raw === "object" && !Array.isArray(raw)
      ? Object.entries(raw)
      : String(raw)
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((pair) => {
            const [k, v] = pair.split("=");
            if (v === undefined) throw new ConfigError(name, `expected type=n pairs, got "${pair}"`);
            return [k!.trim(), v.trim()];
          });
  for (const [k, v] of entries) {
    if (!(JOB_TYPES as readonly string[]).includes(k)) throw new ConfigError(name, `unknown job type "${k}" (types: ${JOB_TYPES.join(", ")})`);
    out[k as JobType] = parseInt10(name, v as Raw, 0);
  }
  return out;
}

function parseValue(key: ConfigKey, spec: KeySpec, raw: Raw, base: Config): unknown {
  const name = spec.env;
  switch (spec.kind) {
    case "string":
      if (typeof raw !== "string" || raw === "") throw new ConfigError(name, "expected a non-empty string");
      if (spec.pattern && !new RegExp(spec.pattern).test(raw)) throw new ConfigError(name, `expected a value matching ${spec.pattern}, got ${JSON.stringify(raw.replace(/\/\/[^@/]*@/, "//***@"))}`);
      if (spec.protocols) {
        let scheme: string | null = null;
        try {
          scheme = new URL(raw).protocol;
        } catch {
          // reported below
        }
        if (!scheme || !spec.protocols.includes(scheme)) throw new ConfigError(name, `expected a ${spec.protocols.join(" or ")} URL`);
      }
      if (spec.min !== undefined && raw.length < spec.min) throw new ConfigError(name, `must be at least ${spec.min} characters long`);
      return raw;
    case "url": {
      const u = URL.canParse(String(raw)) ? new URL(String(raw)) : null;
      if (!u || (u.protocol !== "http:" && u.protocol !== "https:") || u.search || u.hash) throw new ConfigError(name, `expected an http(s) URL without query, got ${JSON.stringify(raw)}`);
      return u.href.replace(/\/+$/, "");
    }
    case "int":
      return parseInt10(name, raw, spec.min ?? 0);
    case "bytes":
      return parseBytes(name, raw, spec.min ?? 1);
    case "list":
      return parseList(raw);
    case "roles":
      return parseRoles(name, raw);
    case "cidrs":
      return parseCidrs(name, raw);
    case "capabilities":
      return parseCapabilities(name, raw);
    case "concurrency":
      return parseConcurrency(name, raw, base.concurrency);
    case "enum":
      if (!spec.values!.includes(String(raw))) throw new ConfigError(name, `expected one of ${spec.values!.join(", ")}, got ${JSON.stringify(raw)}`);
      return String(raw);
  }
  void key;
}

export interface LoadOptions {
  /** Values from command-line flags, already named by config key. */
  flags?: Partial<Record<ConfigKey, Raw>>;
  env?: Record<string, string | undefined>;
  /** Path of medianode.config.json; default: ./medianode.config.json if it exists. */
  file?: string;
  cores?: number;
  /** Overrides applied over the defaults before the other layers (e.g. the worker's port 8081). */
  defaults?: Partial<Config>;
}

/** The config file's name in the data dir, the working directory and /etc/medianode. */
export const CONFIG_FILE_NAME = "medianode.config.json";
/** The system-wide file: an operator's commands and the service find the same settings. */
export const ETC_CONFIG_FILE = `/etc/medianode/${CONFIG_FILE_NAME}`;

/**
 * Where the config file is looked for, in order; the first that exists is used (pure).
 * MEDIANODE_CONFIG alone when set (tests point it at nothing, so /etc is never read there).
 */
export function configFileCandidates(env: Record<string, string | undefined>, dataDir: string, cwd: string): string[] {
  if (env.MEDIANODE_CONFIG) return [resolve(cwd, env.MEDIANODE_CONFIG)];
  return [...new Set([resolve(cwd, dataDir, CONFIG_FILE_NAME), resolve(cwd, CONFIG_FILE_NAME), ETC_CONFIG_FILE])];
}

/** Where a value came from: `name` is the flag, variable or file it was read from. */
export interface ValueSource {
  from: "flag" | "env" | "file" | "default";
  name: string;
}

export interface LoadedConfig {
  config: Config;
  sources: Record<ConfigKey, ValueSource>;
  /** The config file used, or null. */
  file: string | null;
  /** Every place looked at for it, in order. */
  looked: string[];
}

function readConfigFile(filePath: string): Record<string, Raw> {
  let values: Record<string, Raw>;
  try {
    const parsed: unknown = JSON.parse(readFileSync(filePath, "utf8"));
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    values = parsed as Record<string, Raw>;
  } catch (e) {
    throw new ConfigError(filePath, `cannot read config file: ${(e as Error).message}`);
  }
  for (const k of Object.keys(values)) {
    if (!(k in CONFIG_KEYS)) throw new ConfigError(filePath, `unknown key "${k}" (keys: ${Object.keys(CONFIG_KEYS).join(", ")})`);
  }
  return values;
}

/** Flags > environment > config file > defaults; every value checked once here. */
export function loadConfig(opts: LoadOptions = {}): Config {
  return loadConfigWithSources(opts).config;
}

/** loadConfig, also saying where each value came from (`medianode config`). */
export function loadConfigWithSources(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const config: Config = { ...defaultConfig(opts.cores ?? availableParallelism()), ...opts.defaults };
  const flags = opts.flags ?? {};
  // The data dir is known before the file is read: it is one of the places the file may be.
  const lookupDataDir = String(flags.dataDir ?? (env.MEDIANODE_DATA_DIR || undefined) ?? config.dataDir);
  const looked = opts.file ? [opts.file] : configFileCandidates(env, lookupDataDir, process.cwd());
  const filePath = looked.find((f) => existsSync(f)) ?? null;
  const fileValues = filePath ? readConfigFile(filePath) : {};
  const flagName = (k: ConfigKey) => `--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`;
  const layers: [Partial<Record<string, Raw>>, ValueSource["from"], (k: ConfigKey) => string][] = [
    [fileValues, "file", (k) => `${filePath}: ${k}`],
    [Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, s]) => [k, env[s.env] === "" ? undefined : env[s.env]])), "env", (k) => CONFIG_KEYS[k].env],
    [flags, "flag", flagName],
  ];
  const sources = Object.fromEntries(Object.keys(CONFIG_KEYS).map((k) => [k, { from: "default", name: "default" }])) as Record<ConfigKey, ValueSource>;
  const mutable = config as unknown as Record<string, unknown>;
  for (const [values, from, label] of layers) {
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      const raw = values[key];
      if (raw === undefined) continue;
      const spec: KeySpec = { ...CONFIG_KEYS[key], env: label(key) };
      mutable[key] = parseValue(key, spec, raw, config);
      sources[key] = { from, name: from === "file" ? filePath! : label(key) };
    }
  }
  config.dataDir = resolve(config.dataDir);
  return { config, sources, file: filePath, looked };
}
