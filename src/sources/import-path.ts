import { realpathSync, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../errors";
import { isInside } from "../storage/paths";

/** A `{path}` source must be an absolute file inside MEDIANODE_IMPORT_DIRS, symlinks resolved. */
export function checkImportPath(path: string, importDirs: string[]): string {
  if (path.includes("\0") || !isAbsolute(path)) throw new InvalidInputError("path must be absolute");
  if (importDirs.length === 0) throw new ForbiddenError("path sources are disabled (set MEDIANODE_IMPORT_DIRS)");
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new NotFoundError("no such file");
  }
  const allowed = importDirs.some((d) => {
    try {
      return isInside(realpathSync(d), real);
    } catch {
      return false;
    }
  });
  if (!allowed) throw new ForbiddenError("path is outside MEDIANODE_IMPORT_DIRS");
  if (!statSync(real).isFile()) throw new InvalidInputError("path is not a regular file");
  return real;
}
