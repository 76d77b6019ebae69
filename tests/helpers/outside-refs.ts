// Finds references that leave the repository in source text (pure: text in, findings out).
// CI runs on a clean clone with nothing beside it, so a path into a sibling folder or a
// machine's home/work folder works on one machine only.
import { dirname, relative, resolve } from "node:path";

export interface OutsideRef {
  line: number;
  text: string;
  why: string;
}

/** Absolute paths of one machine's folders (system paths like /usr/bin or /tmp are fine). */
const MACHINE_PATH = /(?<![\w.:~/$-])\/(?:work|home|root|Users|mnt|workspace)(?=\/|["'`\s)]|$)/;
/** A quoted path that starts by going up: resolved against the file's folder. */
const RELATIVE_UP = /(["'`])((?:\.\.\/)+[^"'`\s]*)\1/g;
/** join(import.meta.dir, "..", "..") style: each ".." argument goes up one folder. */
const DOTDOT_ARGS = /import\.meta\.dir(?:name)?\s*,((?:\s*["']\.\.["']\s*,?)+)/g;

/** `file` is relative to `root`; returns each reference that points outside `root`. */
export function findOutsideRefs(root: string, file: string, text: string): OutsideRef[] {
  const out: OutsideRef[] = [];
  const dir = dirname(resolve(root, file));
  const leaves = (target: string) => {
    const rel = relative(root, target);
    return rel === ".." || rel.startsWith("../") || rel.startsWith("/");
  };
  text.split("\n").forEach((line, i) => {
    const hit = (why: string) => out.push({ line: i + 1, text: line.trim().slice(0, 200), why });
    if (MACHINE_PATH.test(line)) hit("absolute path of a machine's folder");
    if (/\.\.\/shared\b/.test(line)) hit("the shared folder beside the clone");
    for (const m of line.matchAll(RELATIVE_UP)) if (leaves(resolve(dir, m[2]!))) hit(`"${m[2]}" resolves outside the repository`);
    for (const m of line.matchAll(DOTDOT_ARGS)) {
      const ups = (m[1]!.match(/\.\./g) ?? []).length;
      if (leaves(resolve(dir, ...Array<string>(ups).fill("..")))) hit(`${ups} ".." from import.meta.dir leave the repository`);
    }
  });
  return out;
}
