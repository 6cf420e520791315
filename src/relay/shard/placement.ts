/**
 * Which relay shard serves a call: a rule that picks one of `count` shards for a `sid` when the
 * call is first seen, and remembers the choice until the call is released.
 *
 * ```text
 * least_loaded  the shard with the fewest live calls; ties go to the lowest index
 * hash          FNV-1a 32 of the sid, modulo the shards alive (stable for a sid whatever
 *               else is live; a lost shard's sids move, the others' stay)
 * ```
 *
 * A lost shard takes no new calls under either rule.
 *
 * @module
 */

/** The placement rules (see the module doc). */
export type PlacementRule = "least_loaded" | "hash";

/** Every placement rule. */
export const PLACEMENT_RULES: readonly PlacementRule[] = Object.freeze(["least_loaded", "hash"]);

/**
 * Places calls on shards and counts the live calls of each.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ShardPlacement } from "@clutchcall/voice/relay/shard";
 *
 * const placement = new ShardPlacement(2, "least_loaded");
 * assertEquals(placement.place("CA1"), 0);
 * assertEquals(placement.place("CA2"), 1);
 * assertEquals(placement.place("CA1"), 0); // remembered
 * placement.release("CA1");
 * assertEquals(placement.place("CA3"), 0);
 * assertEquals(placement.loads(), [1, 1]);
 * ```
 */
export class ShardPlacement {
  /** The rule in use. */
  readonly rule: PlacementRule;
  readonly #loads: number[];
  readonly #alive: boolean[];
  readonly #bySid = new Map<string, number>();

  /** Places over `count` shards (all alive) with `rule`. */
  constructor(count: number, rule: PlacementRule = "least_loaded") {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`Cannot place calls: shard count must be an integer >= 1, got ${count}`);
    }
    if (!PLACEMENT_RULES.includes(rule)) {
      throw new TypeError(`Cannot place calls: unknown placement rule "${rule}"`);
    }
    this.rule = rule;
    this.#loads = new Array(count).fill(0);
    this.#alive = new Array(count).fill(true);
  }

  /** How many shards there are, alive or not. */
  get count(): number {
    return this.#loads.length;
  }

  /** The shard of `sid`, placing it now when it has none. Throws when no shard is alive. */
  place(sid: string): number {
    const known = this.#bySid.get(sid);
    if (known !== undefined) return known;
    const shard = this.rule === "hash" ? this.#byHash(sid) : this.#leastLoaded();
    this.#bySid.set(sid, shard);
    this.#loads[shard]++;
    return shard;
  }

  /** The shard of `sid` if it is placed. */
  shardOf(sid: string): number | undefined {
    return this.#bySid.get(sid);
  }

  /** Forgets `sid` (its call ended); its shard's load drops. Releasing twice is a no-op. */
  release(sid: string): void {
    const shard = this.#bySid.get(sid);
    if (shard === undefined) return;
    this.#bySid.delete(sid);
    this.#loads[shard]--;
  }

  /**
   * Marks `shard` lost: it takes no new calls; returns the sids it held, now forgotten (their
   * calls are to be ended by the caller).
   */
  lose(shard: number): string[] {
    this.#alive[shard] = false;
    const sids = [...this.#bySid].filter(([, s]) => s === shard).map(([sid]) => sid);
    for (const sid of sids) this.release(sid);
    return sids;
  }

  /** Whether `shard` is alive. */
  alive(shard: number): boolean {
    return this.#alive[shard] ?? false;
  }

  /** Live calls per shard, by index. */
  loads(): number[] {
    return [...this.#loads];
  }

  #leastLoaded(): number {
    let best = -1;
    for (let i = 0; i < this.#loads.length; i++) {
      if (!this.#alive[i]) continue;
      if (best < 0 || this.#loads[i] < this.#loads[best]) best = i;
    }
    if (best < 0) throw new Error("Cannot place a call: no relay shard is alive");
    return best;
  }

  #byHash(sid: string): number {
    const alive = this.#alive.flatMap((ok, i) => ok ? [i] : []);
    if (alive.length === 0) throw new Error("Cannot place a call: no relay shard is alive");
    return alive[fnv1a(sid) % alive.length];
  }
}

/** FNV-1a, 32 bits, over the UTF-16 code units of `text`. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
