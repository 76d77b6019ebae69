// `bun run build`: dist/medianode, a single executable (bun build --compile) that runs
// serve, worker, submit and doctor without the checkout. The media thread is a second
// entrypoint so the binary carries it; sharp's native parts cannot be embedded and are
// copied to dist/node_modules, where src/media/image.ts finds them from process.execPath.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = Bun.spawnSync(
  [process.execPath, "build", "--compile", "--minify-syntax", "--sourcemap=none", join(root, "cli/main.ts"), join(root, "src/pool/thread.ts"), "--outfile", join(dist, "medianode")],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
);
if (result.exitCode !== 0) process.exit(result.exitCode ?? 1);

// sharp and its prebuilt libvips (@img/*) go beside the binary.
const nm = join(root, "node_modules");
const copy = (name: string) => {
  const from = join(nm, name);
  if (existsSync(from)) cpSync(from, join(dist, "node_modules", name), { recursive: true, dereference: true });
};
copy("sharp");
for (const dep of ["detect-libc", "semver", "color", "color-string", "color-convert", "color-name", "simple-swizzle", "is-arrayish", "@emnapi"]) copy(dep);
if (existsSync(join(nm, "@img"))) for (const pkg of readdirSync(join(nm, "@img"))) copy(join("@img", pkg));
console.log(`built ${join(dist, "medianode")} (+ dist/node_modules for sharp): copy both to the target machine`);
