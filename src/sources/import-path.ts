import { realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors";
import { isInside } from "../storage/paths";

const OUTSIDE = "path is outside MEDIANODE_IMPORT_DIRS (or does not exist)";

/**
 * Where `path` leads with symlinks resolved, even when its last parts do not exist: the
 * deepest existing ancestor's real path joined with the rest.
 */
function resolveAsFarAsExists(path: string): { real: string; exists: boolean } {
  let head = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return { real: join(realpathSync(head), ...rest), exists: rest.length === 0 };
    } catch {
      if (dirname(head) === head) return { real: join(head, ...rest), exists: false };
      rest.unshift(basename(head));
      head = dirname(head);
    }
  }
}

/**
 * A `{path}` source must be an absolute file inside MEDIANODE_IMPORT_DIRS, symlinks resolved.
 * Outside the folders, a file that exists and one that does not get the same answer (403):
 * otherwise the status would tell a tenant which files exist on the host (issue #12).
 */
export function checkImportPath(path: string, importDirs: string[]): string {
  if (path.includes("\0") || !isAbsolute(path)) throw new InvalidInputError("path must be absolute");
  if (importDirs.length === 0) throw new ForbiddenError("path sources are disabled (set MEDIANODE_IMPORT_DIRS)");
  const { real, exists } = resolveAsFarAsExists(path);
  const allowed = importDirs.some((d) => {
    try {
      return isInside(realpathSync(d), real);
    } catch {
      return false;
    }
  });
  if (!allowed) throw new ForbiddenError(OUTSIDE);
  if (!exists) throw new NotFoundError("no such file in MEDIANODE_IMPORT_DIRS");
  if (!statSync(real).isFile()) throw new InvalidInputError("path is not a regular file");
  return real;
}
