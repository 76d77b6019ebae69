import { isAbsolute, normalize, relative, resolve, sep } from "node:path";
import { InvalidInputError } from "../errors";

/**
 * Resolves a relative name under `root`, refusing anything that could leave it:
 * `..`, encoded `..`, absolute paths, NUL bytes, backslashes (SPEC §7). Pure (no I/O);
 * symlinks are checked by the caller with realpath.
 */
export function containedPath(root: string, name: string): string {
  let decoded = name;
  try {
    // Decode until stable so %252e%252e cannot sneak through.
    for (let i = 0; i < 3 && /%[0-9a-f]{2}/i.test(decoded); i++) decoded = decodeURIComponent(decoded);
  } catch {
    throw new InvalidInputError("malformed path encoding");
  }
  if (decoded.includes("\0") || decoded.includes("\\") || isAbsolute(decoded) || decoded === "") throw new InvalidInputError("invalid path");
  const parts = decoded.split("/");
  if (parts.some((p) => p === ".." || p === ".")) throw new InvalidInputError("invalid path");
  const full = resolve(root, normalize(decoded));
  const rel = relative(resolve(root), full);
  if (rel.startsWith("..") || isAbsolute(rel) || rel === "") throw new InvalidInputError("invalid path");
  return full;
}

/** True when `child` (already resolved) is `parent` or inside it. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel) && !rel.startsWith(sep));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * A message or stderr text with the node's own paths replaced by job-relative names:
 * `<media>/<jobId>/source` → `source`, an attempt folder → `out/`, anything else under the
 * media root → `<media>/…`. Clients see what went wrong, not where the node keeps its data
 * (issue #12). Pure.
 */
export function jobRelativeText(text: string, mediaRoot: string): string {
  let out = text;
  for (const root of new Set([mediaRoot, resolve(mediaRoot)])) {
    const r = escapeRe(root.replace(/\/+$/, ""));
    out = out
      .replace(new RegExp(`${r}/[^/\\s'"]+/attempts/[^/\\s'"]+/`, "g"), "out/")
      .replace(new RegExp(`${r}/[^/\\s'"]+/`, "g"), "")
      .replace(new RegExp(r, "g"), "<media>");
  }
  return out;
}
