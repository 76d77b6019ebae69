// A committed output's bytes for code that reads them on the node itself (a channel loading a
// track), whichever store holds them: what MediaFiles.locateOutput found with `read: true`
// (a file in the data dir, or a bucket object read through the node).
import { statSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "../errors";
import type { OutputLocation } from "./media-files";

/** Objects are copied to disk this much at a time (memory stays at one piece whatever the size). */
const PIECE_BYTES = 4 * 1024 * 1024;

type Readable = Exclude<OutputLocation, { kind: "redirect" }>;

function readable(loc: OutputLocation): Readable {
  if (loc.kind === "redirect") throw new StorageError("an output located for reading came back as a redirect (locate it with read: true)");
  return loc;
}

/** Size and mtime of the output: what identifies this commit of it (a rerun changes them). */
export function outputStat(loc: OutputLocation): { size: number; mtimeMs: number } {
  const l = readable(loc);
  if (l.kind === "object") return l.stat;
  const st = statSync(l.path);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

/** The whole output in memory. */
export async function readOutput(loc: OutputLocation): Promise<Uint8Array> {
  const l = readable(loc);
  if (l.kind === "file") return await Bun.file(l.path).bytes();
  return l.stat.size > 0 ? await l.read(0, l.stat.size - 1) : new Uint8Array(0);
}

/**
 * A local file of the output for a tool that wants a path (ffmpeg): the file itself, or the
 * object copied into `tmpDir` (created 0700). `release()` removes the copy (a no-op for a file).
 */
export async function outputAsFile(loc: OutputLocation, tmpDir: string, name: string): Promise<{ path: string; release(): Promise<void> }> {
  const l = readable(loc);
  if (l.kind === "file") return { path: l.path, release: async () => {} };
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const path = join(tmpDir, `${name}.${process.pid}.${Date.now().toString(36)}.download`);
  const release = () => rm(path, { force: true });
  try {
    const fh = await open(path, "w", 0o600);
    try {
      for (let at = 0; at < l.stat.size; at += PIECE_BYTES) await fh.write(await l.read(at, Math.min(l.stat.size, at + PIECE_BYTES) - 1));
    } finally {
      await fh.close();
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { path, release };
}
