/**
 * The messages between the main thread and a shard Worker (structured-clone data only).
 *
 * ```text
 * main → worker   init, peers, place, release, stats, close, crash / hang (fault injection)
 * worker → main   ready (bound port), stats, closed, failed (init failed), track / trackEnded
 *                 (the tracks of its own calls, for the calls service on the main thread),
 *                 log (each of its log records, written by the main thread's logger)
 * ```
 *
 * @module
 */
import type { VerifierOptions } from "../../auth/verifier.ts";
import type { LogLevel } from "../../log/mod.ts";
import type { CrossShardCounters } from "./cross.ts";
import type { ShardLogMessage } from "./log_forward.ts";

/** What a shard Worker is started with. */
export interface ShardInit {
  readonly type: "init";
  /** This shard's index (≥ 1: shard 0 is the main thread's relay). */
  readonly index: number;
  /** Address to bind. */
  readonly hostname: string;
  /** UDP port to bind, 0 for any. */
  readonly port: number;
  /** Address other shards are reached at (loopback for a wildcard bind). */
  readonly connectHost: string;
  readonly cert: string;
  readonly key: string;
  /** What tokens clients may present (as the server's configuration says); none: allow all. */
  readonly verifier?: VerifierOptions;
  /** The process's shard secret (see `./auth.ts`). */
  readonly shardSecret: string;
  readonly subscribeTimeoutMs: number;
  readonly maxInFlightGroups: number;
  readonly requestWindow: number;
  readonly logLevel: LogLevel;
}

/** Messages to a shard Worker. */
export type ToShard =
  | ShardInit
  | { readonly type: "peers"; readonly ports: readonly number[] }
  | { readonly type: "certificate"; readonly cert: string; readonly key: string }
  | { readonly type: "place"; readonly sid: string; readonly shard: number }
  | { readonly type: "release"; readonly sid: string }
  | { readonly type: "lost"; readonly shard: number }
  | { readonly type: "stats"; readonly id: number }
  | { readonly type: "close"; readonly graceMs: number }
  | { readonly type: "crash"; readonly reason: string }
  /**
   * Fault injection (tests): the Worker's thread blocks until `hold[0]` is set non-zero (and
   * notified), as a Worker stuck in a loop would.
   */
  | { readonly type: "hang"; readonly hold: SharedArrayBuffer };

/** One shard's figures. */
export interface ShardStats {
  /** The shard's index (0: the main relay). */
  readonly index: number;
  /** Its UDP port. */
  readonly port: number;
  /** False once the shard was lost (its Worker died). */
  readonly alive: boolean;
  /** Live calls placed on it. */
  readonly calls: number;
  /** Its live MoQT sessions (shard links included). */
  readonly sessions: number;
  /** Its live tracks. */
  readonly tracks: number;
  /** What crossed to and from other shards, from its side. */
  readonly cross: CrossShardCounters;
  /** MoQT objects its relay forwarded to subscribers, since it started. */
  readonly objects: number;
  /** Whole groups its relay dropped for slow subscribers, since it started. */
  readonly droppedGroups: number;
  /**
   * True when the shard did not answer in time (hung) or is lost: `sessions` and `tracks` are
   * then 0 and the counters are the last it reported (counters never go back).
   */
  readonly stale: boolean;
}

/** Messages from a shard Worker. */
export type FromShard =
  | { readonly type: "ready"; readonly port: number }
  | { readonly type: "failed"; readonly message: string }
  | {
    readonly type: "stats";
    readonly id: number;
    readonly sessions: number;
    readonly tracks: number;
    readonly cross: CrossShardCounters;
    readonly objects: number;
    readonly droppedGroups: number;
  }
  | { readonly type: "closed" }
  /** A track of a call placed on this shard was published here (with a capability). */
  | {
    readonly type: "track";
    readonly id: number;
    readonly sid: string;
    readonly name: string;
    readonly capability: string;
  }
  /** That track ended (with an error message, or cleanly). */
  | { readonly type: "trackEnded"; readonly id: number; readonly error?: string }
  /** One of its log records (see `./log_forward.ts`). */
  | ShardLogMessage;
