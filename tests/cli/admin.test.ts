// Admin commands on a systemd host (issue 11, point 6): every data command takes --data-dir,
// the config file is found where the service's is, `config` says where each value came from,
// and a caller who is not the data folder's owner is refused before anything is written.
import { afterAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownerRefusal, userNameIn } from "../../cli/data-dir";
import { configFileCandidates, ETC_CONFIG_FILE } from "../../src/config/load";
import { tempDir } from "../helpers/tmp";
import { expectExit, runCli } from "./run";

const dir = tempDir();
afterAll(() => dir.remove());

describe("--data-dir on every command that touches data", () => {
  test.each(["token create", "token list", "token revoke", "migrate", "doctor", "config", "serve", "worker"])("%s --help lists it", async (cmd) => {
    const r = expectExit(await runCli([...cmd.split(" "), "--help"]), 0);
    expect(r.stdout).toContain("--data-dir <dir>");
  });
});

describe("where the config file is looked for", () => {
  test("MEDIANODE_CONFIG alone when set; else the data dir, the working dir, then /etc/medianode (pure)", () => {
    expect(configFileCandidates({ MEDIANODE_CONFIG: "/srv/m.json" }, "/var/lib/medianode", "/opt/app")).toEqual(["/srv/m.json"]);
    expect(configFileCandidates({}, "/var/lib/medianode", "/opt/app")).toEqual(["/var/lib/medianode/medianode.config.json", "/opt/app/medianode.config.json", ETC_CONFIG_FILE]);
    expect(configFileCandidates({}, "./data", "/opt/app")[0]).toBe("/opt/app/data/medianode.config.json");
    expect(ETC_CONFIG_FILE).toBe("/etc/medianode/medianode.config.json");
  });

  test("`config` reads the data dir's file and says where each value came from, secrets masked", async () => {
    const data = join(dir.path, "svc");
    mkdirSync(data);
    writeFileSync(join(data, "medianode.config.json"), JSON.stringify({ port: 9100, host: "10.0.0.1", jwtSecret: "file-secret-0123456789", rateLimitPerIp: 7 }));
    // No MEDIANODE_CONFIG: the lookup runs (the data dir's file comes before ./ and /etc).
    const env = { MEDIANODE_CONFIG: "", MEDIANODE_HOST: "127.0.0.2", REDIS_URL: "redis://:hunter2@redis-host:6390", MEDIANODE_TOKEN: "mn_t_abc.def", MEDIANODE_PLAYBACK_SECRET: "playback-secret-0123456789-0123456789" };
    const r = expectExit(await runCli(["config", "--data-dir", data, "--port", "9200", "--json"], { env, cwd: dir.path }), 0);
    expect(r.stdout).not.toContain("file-secret-0123456789");
    expect(r.stdout).not.toContain("hunter2");
    expect(r.stdout).not.toContain("mn_t_abc.def");
    expect(r.stdout).not.toContain("playback-secret-0123456789");
    const j = JSON.parse(r.stdout) as { file: string; values: Record<string, { value: unknown; from: string; name: string }> };
    expect(j.file).toBe(join(data, "medianode.config.json"));
    expect(j.values.port).toMatchObject({ value: 9200, from: "flag", name: "--port" });
    expect(j.values.host).toMatchObject({ value: "127.0.0.2", from: "env", name: "MEDIANODE_HOST" });
    expect(j.values.rateLimitPerIp).toMatchObject({ value: 7, from: "file", name: j.file });
    expect(j.values.jwtSecret).toMatchObject({ value: "***", from: "file" });
    expect(j.values.token).toMatchObject({ value: "***", from: "env" });
    expect(j.values.playbackSecret).toMatchObject({ value: "***", from: "env" });
    expect(j.values.redisUrl!.value).toBe("redis://:***@redis-host:6390");
    expect(j.values.stallSec).toMatchObject({ value: 120, from: "default" });
    // The table form says the same in columns.
    const t = expectExit(await runCli(["config", "--data-dir", data], { env, cwd: dir.path }), 0).stdout;
    expect(t).toContain(`config file: ${j.file}`);
    expect(t).toMatch(/port\s+9100\s+file /);
    expect(t).not.toContain("file-secret-0123456789");
  });

  test("MEDIANODE_CONFIG wins over the data dir's file; a bad value in it names the file and key (exit 2)", async () => {
    const data = join(dir.path, "svc");
    const other = join(dir.path, "other.json");
    writeFileSync(other, JSON.stringify({ port: 9300 }));
    const j = JSON.parse(expectExit(await runCli(["config", "--data-dir", data, "--json"], { env: { MEDIANODE_CONFIG: other } }), 0).stdout) as { file: string; values: Record<string, { value: unknown }> };
    expect(j.file).toBe(other);
    expect(j.values.port!.value).toBe(9300);
    writeFileSync(other, JSON.stringify({ port: "lots" }));
    const bad = expectExit(await runCli(["config", "--json"], { env: { MEDIANODE_CONFIG: other } }), 2);
    expect(bad.stderr).toContain(`${other}: port`);
  });

  test("token create finds the service's data dir through the config file", async () => {
    const data = join(dir.path, "svc");
    const cfg = join(dir.path, "points-at-svc.json");
    writeFileSync(cfg, JSON.stringify({ dataDir: data }));
    expectExit(await runCli(["token", "create", "--name", "via-config", "--json"], { env: { MEDIANODE_CONFIG: cfg }, cwd: dir.path }), 0);
    const list = expectExit(await runCli(["token", "list", "--data-dir", data, "--json"]), 0).stdout;
    expect(list).toContain("via-config");
    expect(readdirSync(dir.path)).not.toContain("data"); // no second database in the working dir
  });
});

describe("the data folder's owner", () => {
  test("refusal text and /etc/passwd lookup (pure)", () => {
    expect(userNameIn("root:x:0:0::/root:/bin/sh\nmedianode:x:998:998::/var/lib/medianode:/usr/sbin/nologin\n", 998)).toBe("medianode");
    expect(userNameIn("root:x:0:0::/root:/bin/sh\n", 5)).toBeNull();
    expect(ownerRefusal("/d", { uid: 998, name: "medianode" }, { uid: 998, name: "medianode" }, "migrate")).toBeNull();
    const msg = ownerRefusal("/var/lib/medianode", { uid: 998, name: "medianode" }, { uid: 0, name: "root" }, "token create")!;
    expect(msg).toContain("belongs to medianode (uid 998)");
    expect(msg).toContain("runs as root (uid 0)");
    expect(msg).toContain("sudo -u medianode medianode token create --data-dir /var/lib/medianode");
  });

  const asRoot = process.getuid?.() === 0;
  const passwd = asRoot ? Bun.spawnSync(["getent", "passwd", "nobody"]).stdout.toString() : "";
  const nobody = Number(passwd.split(":")[2] ?? 65534);
  // chown to another user needs root; CI and this machine run as root.
  describe.skipIf(!asRoot)("run as root on a folder owned by nobody", () => {
    const data = join(dir.path, "owned-by-nobody");
    const listing = () => readdirSync(data).sort();
    let before: string[] = [];
    test("setup: a migrated data folder handed to nobody", async () => {
      expectExit(await runCli(["migrate", "--data-dir", data]), 0);
      for (const f of ["", ...readdirSync(data)]) chownSync(join(data, f), nobody, nobody);
      before = listing();
      expect(statSync(data).uid).toBe(nobody);
    });
    test.each([
      [["token", "create", "--name", "x"]],
      [["token", "list"]],
      [["token", "revoke", "t_1"]],
      [["migrate"]],
      [["doctor"]],
      [["serve", "--port", "0"]],
      [["worker"]],
    ])("%p is refused (exit 1, the sudo -u hint) and writes nothing", async (args) => {
      const env = args[0] === "worker" ? { REDIS_URL: "redis://127.0.0.1:1" } : undefined;
      const r = await runCli([...args, "--data-dir", data], { env, timeoutMs: 30_000 });
      expectExit(r, 1);
      expect(r.stdout + r.stderr).toContain(`sudo -u nobody medianode ${args[0]}`);
      expect(r.stdout + r.stderr).toContain("belongs to nobody");
      expect(listing()).toEqual(before);
      for (const f of listing()) expect(`${f} uid ${statSync(join(data, f)).uid}`).toBe(`${f} uid ${nobody}`);
    });
    test("an empty folder owned by nobody is refused too: no root-owned database appears", async () => {
      const empty = join(dir.path, "empty-nobody");
      mkdirSync(empty);
      chownSync(empty, nobody, nobody);
      expectExit(await runCli(["token", "create", "--name", "x", "--data-dir", empty]), 1);
      expect(readdirSync(empty)).toEqual([]);
    });
  });
});
