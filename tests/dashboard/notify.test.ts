// "Notify me when done" in Debian's Chromium (playwright-core), as far as it goes without a
// real push service: the service worker registers under /dashboard/, the page fetches the
// VAPID key and asks PushManager.subscribe for a subscription; headless Chromium has no push
// service (no network, no GCM), so subscribe fails and the page says so plainly without
// submitting. The worker's push handler is driven through DevTools (deliverPushMessage) with a
// real event JSON and must show the notification.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chromium, type Browser } from "playwright-core";
import { corpus } from "../helpers/corpus";
import { startTestNode, type TestNode } from "../helpers/server";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let node: TestNode;
let browser: Browser;
beforeAll(async () => {
  node = await startTestNode();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
});
afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

interface SwReg {
  active: { scriptURL: string } | null;
  scope: string;
  getNotifications(): Promise<{ title: string; body: string; tag: string }[]>;
}
declare const navigator: { serviceWorker: { getRegistration(scope: string): Promise<SwReg | undefined> } };

test("the service worker registers, the VAPID key is fetched and a subscription is asked for; its push handler shows the job's end", async () => {
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"], { origin: node.url });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const requested: string[] = [];
  context.on("request", (r) => requested.push(new URL(r.url()).pathname));
  try {
    await page.goto(`${node.url}/`);
    await page.fill("#token-input", node.token);
    await page.click("#login-form button[type=submit]");
    await page.locator("#main").waitFor({ state: "visible" });
    await page.setInputFiles("#file", corpus("image-jpeg-1x1.jpg").path);
    await page.check("#notify");
    await page.click("#submit-btn");
    await page.locator("#submit-msg[data-push]").waitFor({ timeout: 30_000 });
    const msg = (await page.textContent("#submit-msg")) ?? "";
    if (process.env.SHOW_PUSH_MSG) console.log(msg);
    // What headless Chromium answers without a push service (AbortError: push service error).
    expect(msg).toStartWith("No browser notification:");
    expect(msg).toContain('Untick "Notify me"');
    expect(requested).toContain("/v1/notifications/vapid");
    // Nothing was submitted without the notification the user asked for.
    expect(((await (await node.api("/v1/jobs")).json()) as { items: unknown[] }).items).toHaveLength(0);

    const reg = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration("/dashboard/");
      return r ? { scope: r.scope, script: r.active?.scriptURL ?? null } : null;
    });
    expect(reg).toEqual({ scope: `${node.url}/dashboard/`, script: `${node.url}/dashboard/sw.js` });

    // The push handler, with the payload the server would encrypt to this browser.
    const cdp = await context.newCDPSession(page);
    const registrationId = await new Promise<string>((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", (e: { registrations: { registrationId: string; scopeURL: string }[] }) => {
        const r = e.registrations.find((x) => x.scopeURL === `${node.url}/dashboard/`);
        if (r) resolve(r.registrationId);
      });
      void cdp.send("ServiceWorker.enable");
    });
    const event = { type: "job.completed", jobId: "j_01pushtest", status: "completed", at: new Date().toISOString() };
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: node.url, registrationId, data: JSON.stringify(event) });
    let shown: { title: string; body: string; tag: string }[] = [];
    // Up to 20 s: on a busy machine the worker's push handler runs late (5 s once was not enough).
    for (let i = 0; i < 400 && !shown.length; i++) {
      shown = await page.evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration("/dashboard/");
        return (await r!.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
      });
      if (!shown.length) await Bun.sleep(50);
    }
    expect(shown).toEqual([{ title: "medianode: job completed", body: "j_01pushtest is ready", tag: "j_01pushtest" }]);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
