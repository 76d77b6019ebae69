// A node in its own process, for figures that need one (RSS, CPU profiles):
// `bun bench/node-child.ts` with MEDIANODE_* / REDIS_URL in the environment. Prints one JSON
// line {url, token, pid} on stdout when listening; stops on SIGTERM.
import { loadConfig } from "../src/config/load";
import { createLogger } from "../src/log";
import { startServe } from "../src/roles/serve";

const config = loadConfig({ env: process.env, file: "/nonexistent" });
const log = createLogger({ level: config.logLevel, format: "pretty" });
const node = await startServe(config, log);
const token = node.adminToken ?? (await Bun.file(`${config.dataDir}/admin.token`).text()).trim();
console.log(JSON.stringify({ url: node.url, token, pid: process.pid }));
process.on("SIGTERM", async () => {
  await node.stop(1000);
  process.exit(0);
});
