// Preloaded by bunfig.toml: tests never read the developer's environment or config file.
for (const k of Object.keys(process.env)) {
  // AWS_* and S3_*: Bun's S3 client would read them as defaults (the media bucket, SPEC §11).
  if (k.startsWith("MEDIANODE_") || k === "REDIS_URL" || k.startsWith("AWS_") || k.startsWith("S3_")) delete process.env[k];
}
process.env.MEDIANODE_CONFIG = "/nonexistent/medianode.config.json";
process.env.MEDIANODE_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? "error";
