import { expect, test } from "bun:test";
import { loadConfig } from "../../src/config/load";

const load = (env: Record<string, string>) => loadConfig({ env, file: "/nonexistent" });

test("notification keys load, and a wrong scheme names its variable", () => {
  const c = load({ MEDIANODE_SMTP_URL: "smtps://u:p@mail.example:465", MEDIANODE_MAIL_FROM: "m <m@example.test>", MEDIANODE_PUBLIC_URL: "https://media.example", MEDIANODE_PUSH_TTL_SEC: "60" });
  expect(c).toMatchObject({ smtpUrl: "smtps://u:p@mail.example:465", mailFrom: "m <m@example.test>", publicUrl: "https://media.example", pushTtlSec: 60 });
  expect(load({}).pushTtlSec).toBe(86400);
  expect(() => load({ MEDIANODE_SMTP_URL: "http://mail.example" })).toThrow(/MEDIANODE_SMTP_URL.*smtp: or smtps:/);
  expect(() => load({ MEDIANODE_SMTP_URL: "mail.example:25" })).toThrow(/MEDIANODE_SMTP_URL/);
  expect(() => load({ MEDIANODE_VAPID_SUBJECT: "http://x.example" })).toThrow(/MEDIANODE_VAPID_SUBJECT/);
  expect(() => load({ MEDIANODE_PUBLIC_URL: "ftp://x" })).toThrow(/MEDIANODE_PUBLIC_URL/);
  expect(() => load({ MEDIANODE_PUSH_TTL_SEC: "-1" })).toThrow(/MEDIANODE_PUSH_TTL_SEC/);
});
