// The real-media corpus (tests/corpus/) and what its MANIFEST says each file is.
import { readFileSync } from "node:fs";

/** The one place that knows where the corpus lives: tests/corpus/, inside the repository. */
export const CORPUS_DIR = new URL("../corpus/", import.meta.url).pathname;

export interface CorpusEntry {
  file: string;
  bytes: number;
  kind: "video" | "audio" | "image" | "bad";
  note?: string;
  expect: Record<string, unknown> & {
    width?: number;
    height?: number;
    autoOrient?: { width: number; height: number };
    durationSec?: number | null;
    format_name?: string;
    streams?: { type: string; codec?: string; width?: number; height?: number; sampleRate?: number; channels?: number }[];
  };
}

export const MANIFEST: CorpusEntry[] = JSON.parse(readFileSync(CORPUS_DIR + "MANIFEST.json", "utf8")) as CorpusEntry[];

export function corpus(file: string): { path: string; entry: CorpusEntry } {
  const entry = MANIFEST.find((e) => e.file === file);
  if (!entry) throw new Error(`not in the corpus: ${file}`);
  return { path: CORPUS_DIR + file, entry };
}

export const byKind = (kind: CorpusEntry["kind"]) => MANIFEST.filter((e) => e.kind === kind);
