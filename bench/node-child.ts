// A node in its own process, for figures that need one (RSS, CPU profiles):
// `bun bench/node-child.ts` with MEDIANODE_* / REDIS_URL in the environment. Prints one JSON
// line {url, token, pid} on stdout when listening; stops on SIGTERM.
import { renameSync, writeFileSync } from "node:fs";
import { loadConfig } from "../src/config/load";
import { createLogger } from "../src/log";
import { startServe } from "../src/roles/serve";

const config = loadConfig({ env: process.env, file: "/nonexistent" });
const log = createLogger({ level: config.logLevel, format: "pretty" });
const node = await startServe(config, log);
const token = node.adminToken ?? (await Bun.file(`${config.dataDir}/admin.token`).text()).trim();
console.log(JSON.stringify({ url: node.url, token, pid: process.pid }));
// For the soak: the JS heap as the node sees it, which VmRSS cannot tell apart from native
// memory (sharp/libvips, SQLite, malloc arenas). Rewritten every second while BENCH_HEAP_FILE is set.
const heapFile = process.env.BENCH_HEAP_FILE;
if (heapFile) {
  setInterval(() => {
    const m = process.memoryUsage();
    // Renamed into place, so a reader never sees half a line.
    writeFileSync(`${heapFile}.tmp`, JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external }));
    renameSync(`${heapFile}.tmp`, heapFile);
  }, 1000).unref();
}
process.on("SIGTERM", async () => {
  await node.stop(1000);
  process.exit(0);
});
