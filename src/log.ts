import type { LogFormat, LogLevel } from "./config/schema";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line carries these fields (jobId, node, role...). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; default stderr so that stdout stays for command output. */
  write?: (line: string) => void;
}

function serializeError(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(code === undefined ? {} : { code }), ...(e.cause ? { cause: serializeError(e.cause) } : {}) };
}

// Never log a secret, whatever field it came in.
const SECRET_KEYS = /token|secret|authorization|password/i;

function clean(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEYS.test(k) ? "[redacted]" : v instanceof Error ? serializeError(v) : v;
  }
  return out;
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = LEVELS[opts.level ?? "info"];
  const format = opts.format ?? "json";
  const write = opts.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return;
    const all = clean({ ...base, ...fields });
    if (format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? " " + extra : ""}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  };
}

/** For tests and tools that must not print. */
export const silentLogger: Logger = createLogger({ write: () => {} });
