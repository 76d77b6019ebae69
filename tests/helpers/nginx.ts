// The README's own proxy blocks, run by Debian's nginx for tests (tests/e2e/reverse-proxy and
// two-api-nodes): the server block in front of one node, or the "More nodes" upstream of several.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./redis";

const NGINX = ["/usr/sbin/nginx", Bun.which("nginx")].find((p): p is string => !!p && existsSync(p));
const README = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");

/** The README's fenced block of `lang` that holds `marker` (the README has more than one nginx block). */
export function readmeBlock(lang: string, marker: string): string {
  const blocks = [...README.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]!);
  const block = blocks.find((b) => b.includes(marker));
  if (!block) throw new Error(`README has no \`\`\`${lang} block with ${marker}`);
  return block;
}

/**
 * The README's nginx server block, pointed at `upstream` and listening on `port` (no TLS here);
 * `http` is more of the http { } context (an upstream block). The access log names the upstream
 * that answered each request.
 */
export function nginxConfig(upstream: string, port: number, dir: string, http = ""): string {
  const server = readmeBlock("nginx", "proxy_request_buffering off;").replace("listen 443 ssl;", `listen 127.0.0.1:${port};`).replace("proxy_pass http://127.0.0.1:8080;", `proxy_pass ${upstream};`);
  return [
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    // As root, nginx's workers would switch to nobody, who cannot write the temp folders.
    ...(process.getuid?.() === 0 ? ["user root;"] : []),
    "worker_processes 1;",
    "events { worker_connections 256; }",
    "http {",
    "  log_format upstreams '$upstream_addr $status $request_method $uri';",
    `  access_log ${dir}/access.log upstreams;`,
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${dir}/${t};`),
    http,
    server,
    "}",
  ].join("\n");
}

export interface Proxy {
  url: string;
  stop(): Promise<void>;
}

export async function waitUp(url: string, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false)) return;
    await Bun.sleep(100);
  }
  throw new Error(`${url} did not come up: ${log()}`);
}

/** nginx in front of `upstream` (a URL, or http://<name> of an upstream block given in `http`). */
export async function startNginx(upstream: string, dir: string, http = ""): Promise<Proxy & { accessLog(): string }> {
  if (!NGINX) throw new Error("nginx is not installed: scripts/setup.sh test installs nginx-light");
  const port = await freePort();
  const file = join(dir, "nginx.conf");
  writeFileSync(file, nginxConfig(upstream, port, dir, http));
  const check = Bun.spawnSync([NGINX, "-t", "-p", dir, "-c", file], { stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`nginx -t: ${check.stderr.toString()}`);
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", file, "-g", "daemon off;"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, () => (existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : ""));
  const log = join(dir, "access.log");
  return { url, accessLog: () => (existsSync(log) ? readFileSync(log, "utf8") : ""), stop: async () => void (proc.kill("SIGQUIT"), await proc.exited) };
}
