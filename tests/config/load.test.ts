import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, parseMediaUrl } from "../../src/config/load";
import { CONFIG_KEYS } from "../../src/config/schema";
import { tempDir } from "../helpers/tmp";

describe("config", () => {
  test("defaults", () => {
    const c = loadConfig({ env: {}, file: "/nonexistent", cores: 2 });
    expect(c.port).toBe(8080);
    expect(c.host).toBe("127.0.0.1");
    expect(c.maxUploadBytes).toBe(10 * 1024 ** 3);
    expect(c.roles).toEqual(["api", "worker", "monitor", "metrics"]);
    expect(c.concurrency.image).toBe(2);
    expect(c.logFormat).toBe("json");
  });

  test("flags > environment > file > defaults", () => {
    const dir = tempDir();
    const file = join(dir.path, "medianode.config.json");
    writeFileSync(file, JSON.stringify({ port: 9001, host: "0.0.0.0", stallSec: 30 }));
    const c = loadConfig({ env: { MEDIANODE_PORT: "9002", MEDIANODE_HOST: "127.0.0.2" }, flags: { port: 9003 }, file });
    expect(c.port).toBe(9003);
    expect(c.host).toBe("127.0.0.2");
    expect(c.stallSec).toBe(30);
    dir.remove();
  });

  test("sizes, lists, roles and concurrency parse", () => {
    const c = loadConfig({
      env: { MEDIANODE_MAX_UPLOAD_BYTES: "2GiB", MEDIANODE_IMPORT_DIRS: "/a,/b", MEDIANODE_ROLES: "api,metrics", MEDIANODE_CONCURRENCY: "video=2,image=8" },
      file: "/nonexistent",
    });
    expect(c.maxUploadBytes).toBe(2 * 1024 ** 3);
    expect(c.importDirs).toEqual(["/a", "/b"]);
    expect(c.roles).toEqual(["api", "metrics"]);
    expect(c.concurrency.video).toBe(2);
    expect(c.concurrency.image).toBe(8);
  });

  test.each([
    ["MEDIANODE_PORT", "eighty"],
    ["MEDIANODE_PORT", "-1"],
    ["MEDIANODE_MAX_UPLOAD_BYTES", "10 parsecs"],
    ["MEDIANODE_ROLES", "api,chef"],
    ["MEDIANODE_CONCURRENCY", "video=x"],
    ["MEDIANODE_CONCURRENCY", "teleport=1"],
    ["MEDIANODE_LOG_FORMAT", "xml"],
    ["MEDIANODE_JOB_TIMEOUT_SEC", "0"],
    ["MEDIANODE_SHUTDOWN_GRACE_SEC", "-5"],
    ["MEDIANODE_SHUTDOWN_GRACE_SEC", "soon"],
    // Below 2 s a lock could lapse between two renewals on a busy event loop.
    ["MEDIANODE_LOCK_SEC", "1"],
    // A short playback secret is guessable offline from any one URL.
    ["MEDIANODE_PLAYBACK_SECRET", "short"],
    ["MEDIANODE_PLAYBACK_MAX_TTL_SEC", "0"],
    ["MEDIANODE_PLAYBACK_BASE_URL", "ftp://cdn.example"],
    ["MEDIANODE_PLAYBACK_BASE_URL", "https://cdn.example/?x=1"],
    ["MEDIANODE_PLAYBACK_BASE_URL", "not a url"],
  ])("a bad %s (%s) stops with a message naming it", (name, value) => {
    let err: unknown;
    try {
      loadConfig({ env: { [name]: value }, file: "/nonexistent" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(name);
  });

  test("shutdown grace and job lock: 30 s and 20 s by default; a grace of 0 hands jobs back at once", () => {
    const d = loadConfig({ env: {}, file: "/nonexistent" });
    expect({ grace: d.shutdownGraceSec, lock: d.lockSec }).toEqual({ grace: 30, lock: 20 });
    const c = loadConfig({ env: { MEDIANODE_SHUTDOWN_GRACE_SEC: "0", MEDIANODE_LOCK_SEC: "5" }, file: "/nonexistent" });
    expect({ grace: c.shutdownGraceSec, lock: c.lockSec }).toEqual({ grace: 0, lock: 5 });
  });

  test("playback: 7-day ttl cap, secret and base URL (trailing slash dropped, a path kept)", () => {
    const d = loadConfig({ env: {}, file: "/nonexistent" });
    expect({ max: d.playbackMaxTtlSec, secret: d.playbackSecret, base: d.playbackBaseUrl }).toEqual({ max: 604800, secret: undefined, base: undefined });
    const c = loadConfig({ env: { MEDIANODE_PLAYBACK_SECRET: "k".repeat(32), MEDIANODE_PLAYBACK_BASE_URL: "https://cdn.example/media/", MEDIANODE_PLAYBACK_MAX_TTL_SEC: "3600" }, file: "/nonexistent" });
    expect({ max: c.playbackMaxTtlSec, secret: c.playbackSecret, base: c.playbackBaseUrl }).toEqual({ max: 3600, secret: "k".repeat(32), base: "https://cdn.example/media" });
  });

  test("an unknown key in the config file is refused, naming the file", () => {
    const dir = tempDir();
    const file = join(dir.path, "medianode.config.json");
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    expect(() => loadConfig({ env: {}, file })).toThrow(/medianode.config.json: unknown key "prot"/);
    dir.remove();
  });

  test("every key has an env variable and a doc, each variable once", () => {
    const envs = Object.values(CONFIG_KEYS).map((k) => k.env);
    expect(new Set(envs).size).toBe(envs.length);
    for (const k of Object.values(CONFIG_KEYS)) expect(k.doc.length).toBeGreaterThan(5);
  });
});

describe("MEDIANODE_MEDIA_URL (SPEC §11)", () => {
  test.each([
    ["s3://media", { bucket: "media", prefix: "" }],
    ["s3://media/", { bucket: "media", prefix: "" }],
    ["s3://my-bucket.eu/a/b/", { bucket: "my-bucket.eu", prefix: "a/b" }],
    ["s3://media//x", { bucket: "media", prefix: "x" }],
    ["http://media/x", null],
    ["s3://", null],
    ["s3://UPPER/x", null],
    ["s3://media/../x", null],
    ["s3://media/a\\b", null],
  ])("parseMediaUrl(%p)", (raw, want) => {
    expect(parseMediaUrl(raw)).toEqual(want);
  });

  test("unset: media in the data dir; a bad value names the variable; the S3 keys have their defaults", () => {
    const c = loadConfig({ env: {}, file: "/nonexistent" });
    expect([c.mediaUrl, c.s3Endpoint, c.s3Region]).toEqual([undefined, undefined, "us-east-1"]);
    expect(() => loadConfig({ env: { MEDIANODE_MEDIA_URL: "/srv/media" }, file: "/nonexistent" })).toThrow(/^MEDIANODE_MEDIA_URL: expected s3:\/\/bucket/);
    expect(() => loadConfig({ env: { MEDIANODE_S3_ENDPOINT: "minio:9000" }, file: "/nonexistent" })).toThrow(/^MEDIANODE_S3_ENDPOINT: /);
    const s3 = loadConfig({ env: { MEDIANODE_MEDIA_URL: "s3://media/prod/", MEDIANODE_S3_ENDPOINT: "http://minio:9000/", AWS_REGION: "eu-west-1" }, file: "/nonexistent" });
    expect([s3.mediaUrl, s3.s3Endpoint, s3.s3Region]).toEqual(["s3://media/prod", "http://minio:9000", "eu-west-1"]);
  });
});

test("every key that holds a secret (…Secret, …PrivateKey, …AccessKey…, token) is masked by `medianode config`", () => {
  const looksSecret = Object.entries(CONFIG_KEYS).filter(([k]) => /secret|privatekey|accesskey|^token$|password/i.test(k));
  // The rule must match something, and the known ones: a renamed key would slip past it otherwise.
  expect(looksSecret.map(([k]) => k)).toEqual(expect.arrayContaining(["jwtSecret", "webhookSecret", "playbackSecret", "token", "vapidPrivateKey", "s3SecretAccessKey"]));
  for (const [k, spec] of looksSecret) expect({ k, secret: (spec as { secret?: boolean }).secret }).toEqual({ k, secret: true });
});
