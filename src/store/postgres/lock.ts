// Cluster-wide locks on PostgreSQL (SPEC §11): a session advisory lock, taken on a connection
// of its own so that it lives exactly as long as that session. A holder that dies (SIGKILL,
// power loss) loses it as soon as the server sees its connection close; another api node's
// next try then gets it. held() asks the server whether this session still has it, so a
// connection that broke and came back (a new session, no lock) is not mistaken for the holder.
import { SQL } from "bun";
import type { HeldLock, LockName } from "../records";

/** Our advisory lock numbers (one 32-bit key each; migrate and first-admin use theirs). */
export const LOCK_KEYS: Record<LockName, number> = { duties: 0x6d6e6475 }; // "mndu"

/** How long a lock query may take before the lock counts as lost. */
const LOCK_QUERY_MS = 3000;

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);

export async function tryAdvisoryLock(url: string, name: LockName): Promise<HeldLock | null> {
  const key = LOCK_KEYS[name];
  const conn = new SQL(url, { max: 1, idleTimeout: 0, connectionTimeout: 5 });
  const close = () => conn.close({ timeout: 1 }).catch(() => {});
  try {
    const [r] = (await within(conn`SELECT pg_try_advisory_lock(${key}::bigint) AS ok`, LOCK_QUERY_MS)) as { ok: boolean }[];
    if (!r?.ok) {
      await close();
      return null;
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    async held() {
      try {
        const [r] = (await within(
          conn`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = ${key}::bigint AND pid = pg_backend_pid() AND granted) AS ok`,
          LOCK_QUERY_MS,
        )) as { ok: boolean }[];
        return r?.ok === true;
      } catch {
        return false;
      }
    },
    // Closing the session frees the lock (an explicit unlock first, for a clean hand-over).
    async release() {
      await within(conn`SELECT pg_advisory_unlock(${key}::bigint)`, LOCK_QUERY_MS).catch(() => {});
      await close();
    },
  };
}
