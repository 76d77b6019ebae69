// The cluster's signing secrets on both engines (SPEC §11): the first value offered is stored
// and every later caller, on any node, gets that one; nodes starting together agree.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultConfig } from "../../src/config/schema";
import { shareSigningSecrets } from "../../src/services/signing-secrets";
import { openPostgres } from "../../src/store/postgres/index";
import { ENGINES } from "../helpers/postgres";
import { openTestRecords, type TestRecords } from "../helpers/records";
import { tempDir } from "../helpers/tmp";

describe.each(ENGINES)("cluster secrets on %s", (engine) => {
  let opened: TestRecords;
  beforeAll(async () => {
    opened = await openTestRecords(engine);
  });
  afterAll(() => opened?.close());

  test("the first value is kept: a later offer is not made, nor stored", async () => {
    const { secrets } = opened.records;
    expect(await secrets.shared("playback", () => "first-value")).toBe("first-value");
    let asked = 0;
    expect(await secrets.shared("playback", () => (asked++, "second-value"))).toBe("first-value");
    expect(asked).toBe(0);
    expect(await secrets.shared("webhook", () => "other-name")).toBe("other-name");
  });

  test("signing secrets: configured keys as set; unset ones made once, an older install's files taken over", async () => {
    const a = tempDir();
    const b = tempDir();
    try {
      writeFileSync(join(a.path, "webhook.secret"), "webhook-secret-of-an-older-install\n");
      const base = { ...defaultConfig(2), dataDir: a.path };
      const fresh = await openTestRecords(engine);
      try {
        const first = await shareSigningSecrets({ ...base, playbackSecret: "configured-playback-secret-0123456789" }, fresh.records);
        expect(first.playbackSecret).toBe("configured-playback-secret-0123456789");
        expect(first.webhookSecret).toBe("webhook-secret-of-an-older-install");
        expect(first.vapidPublicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
        // Another node, its own data dir, nothing configured: the same, the playback one made now.
        const second = await shareSigningSecrets({ ...base, dataDir: b.path }, fresh.records);
        expect(second.webhookSecret).toBe(first.webhookSecret);
        expect([second.vapidPublicKey, second.vapidPrivateKey]).toEqual([first.vapidPublicKey, first.vapidPrivateKey]);
        expect(second.playbackSecret!.length).toBeGreaterThanOrEqual(32);
        expect((await shareSigningSecrets({ ...base, dataDir: b.path }, fresh.records)).playbackSecret).toBe(second.playbackSecret);
      } finally {
        await fresh.close();
      }
    } finally {
      a.remove();
      b.remove();
    }
  });

  if (engine === "postgres")
    test("api nodes starting together (separate pools) each offer one; all get the same", async () => {
      const pools = await Promise.all(Array.from({ length: 6 }, () => openPostgres(opened.location, { max: 1 })));
      try {
        const got = await Promise.all(pools.map((p, i) => p.secrets.shared("vapid", () => `offer-${i}`)));
        expect(new Set(got).size).toBe(1);
        expect(got[0]).toMatch(/^offer-\d$/);
      } finally {
        await Promise.all(pools.map((p) => p.close()));
      }
    });
});
