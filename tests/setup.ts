// Preloaded by bunfig.toml: tests never read the developer's environment or config file.
for (const k of Object.keys(process.env)) {
  if (k.startsWith("MEDIANODE_") || k === "REDIS_URL") delete process.env[k];
}
process.env.MEDIANODE_CONFIG = "/nonexistent/medianode.config.json";
process.env.MEDIANODE_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "error";
