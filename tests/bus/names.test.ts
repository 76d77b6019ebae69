import { expect, test } from "bun:test";
import { busNames, eventKeys, MEDIA_READY } from "../../src/bus/names";
import { EVENT_TYPES } from "../../src/events/types";

test("SPEC §13's names for the default prefix", () => {
  const n = busNames("medianode");
  expect([n.jobsQueue, n.dlx, n.dlq, n.eventsExchange]).toEqual(["medianode.jobs", "medianode.dlx", "medianode.dlq", "medianode.events"]);
  expect([n.stream, n.submitSubject, n.rejectedSubject, n.eventsWildcard]).toEqual(["MEDIANODE", "medianode.jobs.submit", "medianode.jobs.rejected", "medianode.events.>"]);
  expect(n.eventSubject("job.completed")).toBe("medianode.events.job.completed");
  // JetStream consumer names take no dots.
  expect(n.consumer).not.toContain(".");
});

test("every name begins with the prefix; the stream is its upper-case form", () => {
  const n = busNames("acme-test");
  for (const name of [n.jobsQueue, n.dlx, n.dlq, n.eventsExchange, n.submitSubject, n.rejectedSubject, n.eventsWildcard, n.consumer, n.eventSubject("x")]) expect(name.startsWith("acme-test")).toBe(true);
  expect(n.stream).toBe("ACME-TEST");
});

test("each event goes under its type; a completion also under media.ready", () => {
  for (const t of EVENT_TYPES) expect(eventKeys(t)).toEqual(t === "job.completed" ? [t, MEDIA_READY] : [t]);
  expect(MEDIA_READY).toBe("media.ready");
});
