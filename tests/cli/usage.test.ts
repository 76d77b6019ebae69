// Exit codes that need no server: usage errors (2), an unreachable server (3), help (0).
import { describe, expect, test } from "bun:test";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { CORPUS_DIR } from "../helpers/corpus";
import { expectExit, runCli } from "./run";

describe("usage errors exit 2", () => {
  test.each([
    ["an unknown command", ["frobnicate"], /unknown command 'frobnicate'/],
    ["an unknown option", ["jobs", "list", "--colour"], /unknown option '--colour'/],
    ["a missing argument", ["submit"], /missing required argument 'source'/],
    ["a missing subcommand argument", ["jobs", "show"], /missing required argument 'id'/],
    ["bad --options JSON", ["submit", CORPUS_DIR + "image-jpeg-1x1.jpg", "--options", "{bad"], /--options must be JSON/],
    ["--options that is not an object", ["submit", CORPUS_DIR + "image-jpeg-1x1.jpg", "--options", "[1]"], /must be a JSON object/],
    ["an unknown --type", ["submit", CORPUS_DIR + "image-jpeg-1x1.jpg", "--type", "gif"], /Allowed choices are probe, image, video, audio, thumbnail/],
    ["a --priority out of range", ["submit", CORPUS_DIR + "image-jpeg-1x1.jpg", "--priority", "1000"], /between -100 and 100/],
    ["a file that does not exist", ["submit", "/nonexistent/clip.mp4"], /no such file: \/nonexistent\/clip.mp4/],
    ["a non-http URL", ["submit", "ftp://example.com/a.mp4"], /only http\(s\) URLs/],
    ["a bad --url", ["jobs", "list", "--url", "not a url"], /not a URL/],
    ["a bad --status", ["jobs", "list", "--status", "done"], /Allowed choices are queued/],
    ["token create without --name", ["token", "create"], /required option '--name <name>' not specified/],
    ["no command at all", [], /Usage: medianode/],
  ])("%s", async (_what, args, message) => {
    const r = expectExit(await runCli(args), 2);
    expect(r.stderr).toMatch(message);
  });

  test("a bad configuration value stops serve, naming the variable", async () => {
    const dir = tempDir();
    try {
      const r = expectExit(await runCli(["serve", "--data-dir", dir.path], { env: { MEDIANODE_PORT: "eighty" } }), 2);
      expect(r.stderr).toContain("MEDIANODE_PORT");
      const f = expectExit(await runCli(["serve", "--data-dir", dir.path, "--roles", "api,chef"]), 2);
      expect(f.stderr).toContain("--roles");
      expect(f.stderr).toContain('unknown role "chef"');
    } finally {
      dir.remove();
    }
  });

  test("worker with a bad --concurrency names the flag", async () => {
    const r = expectExit(await runCli(["worker", "--concurrency", "video=fast"], { env: { REDIS_URL: "redis://127.0.0.1:1" } }), 2);
    expect(r.stderr).toContain("--concurrency");
    expect(r.stderr).toContain("expected a whole number");
  });

  test("worker without REDIS_URL says it needs the api node's Redis", async () => {
    const r = expectExit(await runCli(["worker"]), 2);
    expect(r.stderr).toContain("a worker needs REDIS_URL");
    expect(r.stderr).toContain("api node");
  });
});

describe("help and version exit 0", () => {
  test("--help lists every command and the exit codes", async () => {
    const r = expectExit(await runCli(["--help"]), 0);
    for (const c of ["serve", "worker", "submit", "jobs", "queues", "nodes", "token", "migrate", "doctor"]) expect(r.stdout).toContain(c);
    expect(r.stdout).toContain("3 server unreachable");
  });

  test("worker --help explains the HTTP store (--server/--token) and the shared-mount mode", async () => {
    const r = expectExit(await runCli(["worker", "--help"]), 0);
    expect(r.stdout).toContain("--server <url>");
    expect(r.stdout).toContain("worker scope");
    expect(r.stdout).toContain("shared mount");
    expect(r.stdout).not.toContain("later release");
  });

  test("--version prints the package version", async () => {
    const pkg = (await Bun.file(new URL("../../package.json", import.meta.url)).json()) as { version: string };
    expect(expectExit(await runCli(["--version"]), 0).stdout.trim()).toBe(pkg.version);
  });
});

describe("an unreachable server exits 3", () => {
  test.each([
    ["jobs list", ["jobs", "list"]],
    ["jobs show", ["jobs", "show", "j_x"]],
    ["submit", ["submit", CORPUS_DIR + "image-jpeg-1x1.jpg"]],
    ["queues", ["queues"]],
  ])("%s", async (_what, args) => {
    const port = await freePort();
    const r = expectExit(await runCli([...args, "--url", `http://127.0.0.1:${port}`, "--token", "x"]), 3);
    expect(r.stderr).toContain(`cannot reach medianode at http://127.0.0.1:${port}`);
  });

  test("MEDIANODE_URL is where the CLI looks", async () => {
    const port = await freePort();
    const r = expectExit(await runCli(["jobs", "list"], { env: { MEDIANODE_URL: `http://127.0.0.1:${port}` } }), 3);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
  });
});
