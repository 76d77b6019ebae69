// Lists what a run wrote under outDir as OutputFile rows (names relative, '/'-separated).
import { readdir, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { OutputFile } from "../jobs/schema";
import { mimeFor } from "../media/mime";

/** Every file under dir (hidden scratch folders skipped), sorted, with size and mime; `extra` adds per-file facts. */
export async function listOutputs(dir: string, extra: (name: string) => Partial<OutputFile> = () => ({})): Promise<OutputFile[]> {
  const out: OutputFile[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) {
        const name = relative(dir, full).split(sep).join("/");
        out.push({ name, mime: mimeFor(name), bytes: (await stat(full)).size, ...extra(name) });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
