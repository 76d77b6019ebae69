// Where the playback secret comes from (SPEC §10, §11): made once per cluster and kept in the
// records (cluster_secrets; an older install's <data>/playback.secret is taken over), or
// MEDIANODE_PLAYBACK_SECRET, so every api node of a cluster signs alike;
// MEDIANODE_PLAYBACK_BASE_URL moves the URLs (and the dashboard's CSP) to a CDN's origin.
import { afterAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestNode, waitForJob, type TestNode } from "../../helpers/server";
import { corpus } from "../../helpers/corpus";
import { storedSecret } from "../../helpers/records";
import { tempDir } from "../../helpers/tmp";
import { verifyPlaybackToken } from "../../../src/api/playback/token";

const nodes: TestNode[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(async () => {
  for (const n of nodes) await n.stop();
  for (const d of dirs) d.remove();
});

async function tokenOf(t: TestNode): Promise<{ token: string; base: string; expiresAt: string }> {
  const r = await t.api("/v1/jobs?type=image", { method: "POST", body: Bun.file(corpus("image-jpeg-1x1.jpg").path) });
  const id = ((await r.json()) as { id: string }).id;
  expect((await waitForJob(t, id)).status).toBe("completed");
  const r2 = await t.api(`/v1/jobs/${id}/playback`);
  expect(r2.status).toBe(200);
  const { base, expiresAt } = (await r2.json()) as { base: string; expiresAt: string };
  return { token: base.split("/p/")[1]!.slice(0, -1), base, expiresAt };
}

test("default: made once and kept in the records, the same after a restart; no file in the data dir", async () => {
  const dir = tempDir("mn-pbsecret-");
  dirs.push(dir);
  const first = await startTestNode({}, { dataDir: dir.path });
  const secret = await storedSecret(await first.records(), "playback");
  expect(secret.length).toBeGreaterThanOrEqual(32);
  const { token } = await tokenOf(first);
  expect(verifyPlaybackToken(token, secret, Math.floor(Date.now() / 1000)).ok).toBe(true);
  expect(existsSync(join(dir.path, "playback.secret"))).toBe(false);
  await first.stop();
  const again = await startTestNode({}, { dataDir: dir.path });
  nodes.push(again);
  expect(await storedSecret(await again.records(), "playback")).toBe(secret);
  expect(verifyPlaybackToken((await tokenOf(again)).token, secret, Math.floor(Date.now() / 1000)).ok).toBe(true);
});

test("an install from before the records held it: its <data>/playback.secret is taken over, so its URLs keep opening", async () => {
  const dir = tempDir("mn-pbsecret-old-");
  dirs.push(dir);
  const old = "secret-of-an-older-install-".padEnd(43, "z");
  writeFileSync(join(dir.path, "playback.secret"), old + "\n", { mode: 0o600 });
  const t = await startTestNode({}, { dataDir: dir.path });
  nodes.push(t);
  expect(await storedSecret(await t.records(), "playback")).toBe(old);
  expect(verifyPlaybackToken((await tokenOf(t)).token, old, Math.floor(Date.now() / 1000)).ok).toBe(true);
});

test("MEDIANODE_PLAYBACK_SECRET signs instead (no file), and MEDIANODE_PLAYBACK_BASE_URL names the origin", async () => {
  const secret = "cluster-wide-secret-".padEnd(40, "x");
  const t = await startTestNode({ MEDIANODE_PLAYBACK_SECRET: secret, MEDIANODE_PLAYBACK_BASE_URL: "https://cdn.example/media", MEDIANODE_PLAYBACK_MAX_TTL_SEC: "3600" });
  nodes.push(t);
  const { token, base, expiresAt } = await tokenOf(t);
  expect(base).toStartWith("https://cdn.example/media/p/");
  // With a cap below 24 h, no ?ttl= gets the cap.
  expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
  expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3500_000);
  expect(verifyPlaybackToken(token, secret, Math.floor(Date.now() / 1000)).ok).toBe(true);
  expect(existsSync(join(t.dataDir, "playback.secret"))).toBe(false);
  // The dashboard may load media, images and playlists from there.
  const csp = (await fetch(`${t.url}/`)).headers.get("content-security-policy")!;
  expect(csp).toContain("media-src 'self' blob: https://cdn.example");
  expect(csp).toContain("img-src 'self' data: blob: https://cdn.example");
  expect(csp).toMatch(/connect-src 'self' ws: wss: https:\/\/cdn\.example/);
});
