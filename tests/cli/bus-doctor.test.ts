// `medianode doctor` with MEDIANODE_BUS_URL: the broker answers and takes SPEC §13's names,
// or the check fails naming the URL without its password.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { amqpProbe, AMQP_PORT, natsProbe, NATS_PORT, type BusProbe } from "../helpers/bus";
import { freePort } from "../helpers/redis";
import { tempDir } from "../helpers/tmp";
import { runCli } from "./run";

let amqp: BusProbe;
let nats: BusProbe;
const dir = tempDir();

beforeAll(async () => {
  [amqp, nats] = await Promise.all([amqpProbe(), natsProbe()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([amqp?.remove(), nats?.remove()]);
  dir.remove();
}, 60_000);

type Doctor = { ok: boolean; checks: { name: string; status: string; detail: string }[] };
const doctor = async (env: Record<string, string>) => JSON.parse((await runCli(["doctor", "--json", "--data-dir", dir.path, "--port", "0"], { env })).stdout) as Doctor;
const bus = (d: Doctor) => d.checks.find((c) => c.name === "bus");

test("no MEDIANODE_BUS_URL: no bus line", async () => {
  expect(bus(await doctor({}))).toBeUndefined();
});

test("RabbitMQ: ok, with the queue and the dead-letter queue counted", async () => {
  const b = bus(await doctor({ MEDIANODE_BUS_URL: amqp.nodeUrl(AMQP_PORT), MEDIANODE_BUS_PREFIX: amqp.prefix }))!;
  expect(b.status).toBe("ok");
  expect(b.detail).toContain("RabbitMQ");
  expect(b.detail).toContain(`${amqp.prefix}.jobs 0 waiting`);
  expect(b.detail).not.toContain("guest:guest");
});

test("NATS: ok, JetStream stream declared", async () => {
  const b = bus(await doctor({ MEDIANODE_BUS_URL: nats.nodeUrl(NATS_PORT), MEDIANODE_BUS_PREFIX: nats.prefix }))!;
  expect(b.status).toBe("ok");
  expect(b.detail).toContain(`stream ${nats.prefix.toUpperCase()}`);
});

test.each(["amqp", "nats"])("%s unreachable: fail, password masked", async (scheme) => {
  const port = await freePort();
  const d = await doctor({ MEDIANODE_BUS_URL: `${scheme}://user:s3cret@127.0.0.1:${port}` });
  expect(d.ok).toBe(false);
  const b = bus(d)!;
  expect(b.status).toBe("fail");
  expect(b.detail).toContain("user:***@");
  expect(JSON.stringify(d)).not.toContain("s3cret");
});
