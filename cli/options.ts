// Options and argument parsers shared by several commands, and the context every
// command receives (where to print, how to set the exit code).
import { Command, InvalidArgumentError } from "commander";
import type { ConfigKey } from "../src/config/schema";
import { clientSettings, createClient, type Client, type ClientFlags } from "./client";
import type { Io } from "./output";

export interface Ctx {
  io: Io;
  /** The exit code main() returns; commands that do not set it exit 0. */
  exitCode: number;
}

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidArgumentError(`expected a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

export function jsonArg(what: string, object = true) {
  return (raw: string): unknown => {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new InvalidArgumentError(`${what} must be JSON: ${(e as Error).message}`);
    }
    if (object && (v === null || typeof v !== "object" || Array.isArray(v))) throw new InvalidArgumentError(`${what} must be a JSON object, like '{"key":1}'`);
    return v;
  };
}

/** --url, --token, --data-dir: how a client command finds the server (SPEC §5). */
export function withClientOptions(cmd: Command): Command {
  return cmd
    .option("--url <url>", "server URL (env MEDIANODE_URL, default http://127.0.0.1:8080)")
    .option("--token <token>", "API token (env MEDIANODE_TOKEN, else <data-dir>/admin.token)")
    .option("--data-dir <dir>", "data folder whose admin.token is used when no token is given (env MEDIANODE_DATA_DIR, default ./data)");
}

export function clientFrom(ctx: Ctx, flags: ClientFlags): Client {
  return createClient(clientSettings(flags, ctx.io.env));
}

/** Only the flags given (as config keys), so env and the config file still apply to the rest. */
export function definedFlags(o: Record<string, unknown>, keys: ConfigKey[]): Partial<Record<ConfigKey, string>> {
  const out: Partial<Record<ConfigKey, string>> = {};
  for (const k of keys) if (typeof o[k] === "string") out[k] = o[k] as string;
  return out;
}
