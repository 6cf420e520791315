/**
 * Plain counters for hot paths, with no dependency at all: the relay (which browsers bundle too)
 * bumps these per object, and the Prometheus registry in `./metrics.ts` reads them when
 * `/metrics` is scraped. A `++` costs nothing a per-object path would notice.
 *
 * @module
 */

/** The relay's counters. */
export interface RelayTally {
  /** MoQT objects forwarded to subscribers. */
  objects: number;
  /** Whole groups dropped for slow subscribers. */
  droppedGroups: number;
}

/**
 * The process's relay counters.
 *
 * @example
 * ```ts
 * import { relayTally } from "./tally.ts";
 * relayTally.objects++;
 * ```
 */
export const relayTally: RelayTally = { objects: 0, droppedGroups: 0 };
