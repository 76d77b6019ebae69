import { monotonicFactory } from "ulid";

const next = monotonicFactory();

/**
 * Job ids: time-sortable (the list cursor relies on it) and never numeric, because
 * BullMQ's own counter restarts at 1 when Redis loses its data.
 */
export function newJobId(): string {
  return "j_" + next().toLowerCase();
}

export function newTokenId(): string {
  return "t_" + next().toLowerCase();
}
