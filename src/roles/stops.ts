import type { Logger } from "../log";

/** Runs stop callbacks in reverse order of start; one that fails is logged and the rest still run. */
export async function stopAll(stops: (() => unknown)[], log: Logger): Promise<void> {
  for (const s of stops.splice(0).reverse()) {
    try {
      await s();
    } catch (e) {
      log.error("stop failed", { error: e });
    }
  }
}
