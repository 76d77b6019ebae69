// `medianode config`: the effective configuration (what serve or worker would run with, given
// the same flags, environment and files) and where each value came from; secrets masked.
import { Command } from "commander";
import { loadConfigWithSources, type ValueSource } from "../../src/config/load";
import { CONFIG_KEYS, type ConfigKey, type KeySpec } from "../../src/config/schema";
import { printJson, say, table } from "../output";
import { definedFlags, type Ctx } from "../options";

/** A value as it may be printed: secrets as "***" (their length is not shown either). */
export function displayValue(key: ConfigKey, value: unknown): unknown {
  if (value === undefined) return null;
  if ((CONFIG_KEYS[key] as KeySpec).secret) return "***";
  // A password inside a URL (REDIS_URL=redis://:pw@host) is a secret too.
  if (typeof value === "string") return value.replace(/(\/\/[^:/@]*):[^@/]*@/, "$1:***@");
  return value;
}

const text = (v: unknown): string => (v === null ? "(unset)" : Array.isArray(v) ? v.join(",") || "(none)" : typeof v === "object" ? Object.entries(v as object).map(([k, x]) => `${k}=${String(x)}`).join(",") : String(v));
const origin = (s: ValueSource): string => (s.from === "default" ? "default" : s.from === "file" ? `file ${s.name}` : `${s.from} ${s.name}`);

export function configCommand(ctx: Ctx): Command {
  return new Command("config")
    .description("print the effective configuration and where each value came from (flag, env, file, default); secrets masked")
    .option("--data-dir <dir>", "data folder (env MEDIANODE_DATA_DIR, default ./data); its medianode.config.json is read")
    .option("--port <port>", "as serve's --port")
    .option("--host <host>", "as serve's --host")
    .option("--roles <list>", "as serve's --roles")
    .option("--json", "print {file, looked, values: {key: {value, from, name, env}}}")
    .addHelpText("after", "\nThe config file is the first of: $MEDIANODE_CONFIG; <data-dir>/medianode.config.json; ./medianode.config.json; /etc/medianode/medianode.config.json.")
    .action((o: Record<string, unknown>) => {
      const loaded = loadConfigWithSources({ flags: definedFlags(o, ["dataDir", "port", "host", "roles"]), env: ctx.io.env });
      const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
      const values = Object.fromEntries(keys.map((k) => [k, { value: displayValue(k, loaded.config[k]), ...loaded.sources[k], env: CONFIG_KEYS[k].env }]));
      if (o.json) return printJson(ctx.io, { file: loaded.file, looked: loaded.looked, values });
      say(ctx.io, loaded.file ? `config file: ${loaded.file}` : `config file: none (looked in ${loaded.looked.join(", ")})`);
      say(ctx.io, table([["KEY", "VALUE", "FROM"], ...keys.map((k) => [k, text(values[k]!.value), origin(loaded.sources[k])])]));
    });
}
