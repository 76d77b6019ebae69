// The admin commands (token, migrate, doctor, serve, worker) work on the service's data folder.
// Run as another user (root, say) they would leave files the service cannot open (a root-owned
// medianode.db-wal, a second database): refuse before anything is opened, with the way to do it.
import { readFileSync, statSync } from "node:fs";
import { dbPath } from "../src/store/db";

/** The one who may write `dataDir`: a refusal ends the command with exit 1 (SPEC §5). */
export class DataDirOwnerError extends Error {
  override name = "DataDirOwnerError";
}

/** The user name of `uid` in /etc/passwd-format text, or null (pure). */
export function userNameIn(passwd: string, uid: number): string | null {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length >= 3 && f[2] === String(uid)) return f[0]!;
  }
  return null;
}

function userName(uid: number): string | null {
  try {
    return userNameIn(readFileSync("/etc/passwd", "utf8"), uid);
  } catch {
    return null;
  }
}

/**
 * The refusal message when `me` may not work on a folder owned by `owner`, else null (pure).
 * `command` is what to re-run, e.g. "token create --name ci".
 */
export function ownerRefusal(dir: string, owner: { uid: number; name: string | null }, me: { uid: number; name: string | null }, command: string): string | null {
  if (owner.uid === me.uid) return null;
  const who = (u: { uid: number; name: string | null }) => (u.name ? `${u.name} (uid ${u.uid})` : `uid ${u.uid}`);
  const as = owner.name ?? `#${owner.uid}`;
  return (
    `the data folder ${dir} belongs to ${who(owner)}, but this command runs as ${who(me)}: ` +
    `files it wrote there (the database, its WAL) would then belong to the wrong user and the service could not open them. ` +
    `Run it as the folder's owner: sudo -u ${as} medianode ${command} --data-dir ${dir}`
  );
}

/** Why this user must not work on the data folder (it, or its database, is another user's), or null. */
export function dataDirOwnerProblem(dataDir: string, command: string): string | null {
  const me = process.getuid?.();
  if (me === undefined) return null; // not POSIX: no owners to mix up
  let uid: number;
  try {
    // The database decides when it exists (a folder made by root, chowned later, still counts).
    uid = statOwner(dbPath(dataDir)) ?? statSync(dataDir).uid;
  } catch {
    return null; // no folder yet: it will be created by, and belong to, this user
  }
  return ownerRefusal(dataDir, { uid, name: userName(uid) }, { uid: me, name: userName(me) }, command);
}

/** Throws DataDirOwnerError (exit 1) when dataDirOwnerProblem has something to say. */
export function requireDataDirOwner(dataDir: string, command: string): void {
  const msg = dataDirOwnerProblem(dataDir, command);
  if (msg) throw new DataDirOwnerError(msg);
}

function statOwner(path: string): number | null {
  try {
    return statSync(path).uid;
  } catch {
    return null;
  }
}
