import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
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
      return raw;
    case "int":
      return parseInt10(name, raw, spec.min ?? 0);
    case "bytes":
      return parseBytes(name, raw, spec.min ?? 1);
    case "list":
      return parseList(raw);
    case "roles":
      return parseRoles(name, raw);
    case "capabilities":
      return parseCapabilities(name, raw);
    case "concurrency":
      return parseConcurrency(name, raw, base.concurrency);
    case "enum":
      if (!spec.values!.includes(String(raw))) throw new ConfigError(name, `expected one of ${spec.values!.join(", ")}, got ${JSON.stringify(raw)}`);
      return String(raw);
    case "bool":
      if (["1", "true", "yes", true].includes(raw as string)) return true;
      if (["0", "false", "no", false].includes(raw as string)) return false;
      throw new ConfigError(name, "expected true or false");
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

/** Flags > environment > medianode.config.json > defaults; every value checked once here. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const config: Config = { ...defaultConfig(opts.cores ?? availableParallelism()), ...opts.defaults };
  const filePath = opts.file ?? env.MEDIANODE_CONFIG ?? "medianode.config.json";
  let fileValues: Record<string, Raw> = {};
  if (existsSync(filePath)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(filePath, "utf8"));
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      fileValues = parsed as Record<string, Raw>;
    } catch (e) {
      throw new ConfigError(filePath, `cannot read config file: ${(e as Error).message}`);
    }
    for (const k of Object.keys(fileValues)) {
      if (!(k in CONFIG_KEYS)) throw new ConfigError(filePath, `unknown key "${k}" (keys: ${Object.keys(CONFIG_KEYS).join(", ")})`);
    }
  }
  const layers: [Partial<Record<string, Raw>>, (k: ConfigKey) => string][] = [
    [fileValues, (k) => `${filePath}: ${k}`],
    [Object.fromEntries(Object.entries(CONFIG_KEYS).map(([k, s]) => [k, env[s.env] === "" ? undefined : env[s.env]])), (k) => CONFIG_KEYS[k].env],
    [opts.flags ?? {}, (k) => `--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`],
  ];
  const mutable = config as unknown as Record<string, unknown>;
  for (const [values, label] of layers) {
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
      const raw = values[key];
      if (raw === undefined) continue;
      const spec: KeySpec = { ...CONFIG_KEYS[key], env: label(key) };
      mutable[key] = parseValue(key, spec, raw, config);
    }
  }
  config.dataDir = resolve(config.dataDir);
  return config;
}
