// Cluster-wide duties (SPEC §11): the periodic reconcile (with the recovery after Redis lost its
// data and the unrecorded-job sweep), retention, and the announcements every node would
// otherwise make once each (progress, queue positions, pauses) run on one api node at a time:
// the holder of the records' "duties" lock. The others try for it every DUTIES_POLL_MS and take
// over when the holder stops or dies (PostgreSQL frees a dead session's lock at once), so a
// takeover costs at most one poll. On SQLite there is one api node per Redis and it holds the
// lock from the start. Webhook deliveries need no lock: each is a BullMQ job that exactly one
// api node's consumer takes.
import type { Logger } from "../log";
import type { HeldLock, Records } from "../store/records";

export const DUTIES_POLL_MS = 2000;

export interface Duties {
  /** Whether this node runs the duties now. */
  leading(): boolean;
  /** Stops the duties (if running) and gives the lock back. */
  stop(): Promise<void>;
}

/**
 * `lead` starts the duties and returns what stops them. The first try is made before this
 * resolves, so a lone node leads (and its start-up reconcile has run) once its api role is up.
 */
export async function startDuties(
  deps: { records: Records; log: Logger },
  lead: () => Promise<() => Promise<void>>,
  o: { pollMs?: number } = {},
): Promise<Duties> {
  let lock: HeldLock | null = null;
  let stopDuties: (() => Promise<void>) | null = null;
  let stopped = false;
  let running: Promise<void> | null = null;

  const giveUp = async () => {
    const stop = stopDuties;
    stopDuties = null;
    await stop?.().catch((e) => deps.log.warn("stopping the cluster duties failed", { error: e }));
    await lock?.release();
    lock = null;
  };

  const tick = async () => {
    if (stopped) return;
    if (lock) {
      if (await lock.held()) return;
      deps.log.warn("cluster duties given up: the lock's connection broke");
      await giveUp();
      return;
    }
    const got = await deps.records.tryLock("duties").catch((e) => (deps.log.warn("could not try the duties lock", { error: e }), null));
    if (!got) return;
    if (stopped) return void (await got.release());
    lock = got;
    try {
      stopDuties = await lead();
      deps.log.info("cluster duties taken (reconcile, recovery, unrecorded sweep, retention)", { engine: deps.records.engine });
    } catch (e) {
      deps.log.warn("starting the cluster duties failed; the lock is given back", { error: e });
      await giveUp();
    }
  };
  const run = () => (running ??= tick().finally(() => (running = null)));

  await run();
  const timer = setInterval(() => void run(), o.pollMs ?? DUTIES_POLL_MS);
  return {
    leading: () => lock !== null,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
      await giveUp();
    },
  };
}
