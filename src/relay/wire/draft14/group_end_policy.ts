/**
 * How a session decides, per peer, that an upstream group has ended.
 *
 * Draft-14 ends a group with its stream's FIN (or an END_OF_GROUP object). Deno WebTransport
 * publishers such as `@moq/net` under Deno never send FIN (denoland/deno#36822), so waiting
 * for it would hold every group of theirs open for ever. Until a peer has shown that it
 * ends its group streams with FIN, a newer group of a track therefore *supersedes* the older
 * ones: they end `graceMs` after the newer group started, time in which what is already on
 * its way may still arrive (streams of consecutive groups are read concurrently, so under
 * load group N's last objects and FIN are often still queued when group N+1's header is read).
 * Once the peer sends one FIN it is trusted to end every group itself, and nothing is cut
 * short any more: that would only lose objects queued behind a newer group's header.
 *
 * ```
 *   learning ──(a group stream ends with FIN)──▶ fin
 *   (newer groups supersede older ones)          (groups end by FIN only)
 * ```
 *
 * Each track gets a {@linkcode GroupEndTracker} holding at most one timer, whatever the
 * number of groups waiting to be superseded.
 *
 * @module
 */

/** The policy's state: see the diagram in the module doc. */
export type GroupEndState = "learning" | "fin";

/** The timer functions the policy uses; tests pass a manual clock. */
export interface GroupEndClock {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of a {@linkcode GroupEndPolicy}. */
export interface GroupEndPolicyOptions {
  /** How long a superseded group may still deliver [50 ms]. */
  readonly graceMs?: number;
  /** Timers [the global ones]. */
  readonly clock?: GroupEndClock;
}

const GLOBAL_CLOCK: GroupEndClock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as number),
};

/**
 * The group-end policy of one peer (one session's subscriber half).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { GroupEndPolicy } from "./group_end_policy.ts";
 *
 * const policy = new GroupEndPolicy({ graceMs: 50 });
 * const ended: number[] = [];
 * using track = policy.tracker((groupId) => ended.push(groupId));
 * track.groupStarted(0);
 * track.groupStarted(1); // group 0 now ends 50 ms later, unless it or the peer's FIN ends first
 * policy.finSeen(); // it did: from now on groups end only by FIN
 * assertEquals(policy.state, "fin");
 * track.groupStarted(2);
 * assertEquals(ended, []);
 * ```
 */
export class GroupEndPolicy {
  readonly #graceMs: number;
  readonly #clock: GroupEndClock;
  readonly #trackers = new Set<GroupEndTracker>();
  #state: GroupEndState = "learning";

  /** Creates the policy of a new peer, in the `learning` state. */
  constructor({ graceMs = 50, clock = GLOBAL_CLOCK }: GroupEndPolicyOptions = {}) {
    this.#graceMs = graceMs;
    this.#clock = clock;
  }

  /** `learning` until the peer ends a group stream with FIN, then `fin`. */
  get state(): GroupEndState {
    return this.#state;
  }

  /** The grace a superseded group gets, in ms. */
  get graceMs(): number {
    return this.#graceMs;
  }

  /**
   * Records that the peer ended a group stream with FIN: from now on it ends its groups
   * itself, and every pending supersession is cancelled.
   */
  finSeen(): void {
    if (this.#state === "fin") return;
    this.#state = "fin";
    for (const tracker of this.#trackers) tracker.cancel();
  }

  /**
   * The tracker of one track: `end(groupId)` is called when a superseded group's grace ran
   * out and it is still open.
   */
  tracker(end: (groupId: number) => void): GroupEndTracker {
    const tracker = new GroupEndTracker(
      this,
      this.#clock,
      end,
      () => this.#trackers.delete(tracker),
    );
    this.#trackers.add(tracker);
    return tracker;
  }
}

/**
 * Supersession of one track's groups under a {@linkcode GroupEndPolicy}: it knows which of
 * the track's groups are open, and when a newer group starts it gives the older open ones
 * their grace; at most one timer, deadlines kept in order. Disposing it cancels what is
 * pending.
 */
export class GroupEndTracker implements Disposable {
  readonly #policy: GroupEndPolicy;
  readonly #clock: GroupEndClock;
  readonly #end: (groupId: number) => void;
  readonly #forget: () => void;
  /** Groups started and not ended. */
  readonly #open = new Set<number>();
  /** Open groups already given their grace. */
  readonly #superseded = new Set<number>();
  /** `[deadline, groups]`, oldest first. */
  readonly #pending: [number, number[]][] = [];
  #timer: unknown;
  #disposed = false;

  /** @internal Use {@linkcode GroupEndPolicy.tracker}. */
  constructor(
    policy: GroupEndPolicy,
    clock: GroupEndClock,
    end: (groupId: number) => void,
    forget: () => void,
  ) {
    this.#policy = policy;
    this.#clock = clock;
    this.#end = end;
    this.#forget = forget;
  }

  /** Groups waiting for their grace to run out. */
  get pending(): number {
    return this.#pending.reduce((n, [, groups]) => n + groups.length, 0);
  }

  /**
   * A group started on this track: while the policy is `learning`, the older groups open
   * right now end once the grace has passed (unless they end first).
   */
  groupStarted(groupId: number): void {
    if (this.#disposed) return;
    this.#open.add(groupId);
    if (this.#policy.state === "fin") return;
    const older = [...this.#open].filter((id) => id < groupId && !this.#superseded.has(id))
      .sort((a, b) => a - b);
    if (older.length === 0) return;
    for (const id of older) this.#superseded.add(id);
    this.#pending.push([this.#clock.now() + this.#policy.graceMs, older]);
    if (this.#timer === undefined) this.#arm(this.#policy.graceMs);
  }

  /** A group ended by itself (FIN, END_OF_GROUP, the track's end): it needs no supersession. */
  groupEnded(groupId: number): void {
    this.#open.delete(groupId);
    this.#superseded.delete(groupId);
  }

  /** Cancels every pending supersession (the peer sends FIN after all, or the track ended). */
  cancel(): void {
    this.#pending.length = 0;
    this.#superseded.clear();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, ms));
  }

  #fire(): void {
    this.#timer = undefined;
    const next = this.#pending.shift();
    if (!next || this.#disposed || this.#policy.state === "fin") return;
    for (const id of next[1]) {
      if (!this.#open.has(id)) continue;
      this.groupEnded(id);
      this.#end(id);
    }
    const after = this.#pending[0];
    if (after) this.#arm(after[0] - this.#clock.now());
  }

  /** Cancels what is pending and leaves the policy; a second dispose is a no-op. */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.cancel();
    this.#open.clear();
    this.#forget();
  }
}
