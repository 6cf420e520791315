/**
 * Relay shards: the relay's work spread over Workers on one machine, one UDP port each, calls
 * placed on a shard when first seen, what crosses shards counted. See `./pool.ts` for the
 * design; `relay.shards` in the server's configuration turns it on.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ShardPlacement } from "@clutchcall/voice/relay/shard";
 *
 * const placement = new ShardPlacement(2, "hash");
 * assertEquals(placement.place("CA1"), placement.place("CA1"));
 * ```
 *
 * @module
 */
export { PLACEMENT_RULES, type PlacementRule, ShardPlacement } from "./placement.ts";
export { type CrossShardCounters, CrossShardLinks, type CrossShardLinksOptions } from "./cross.ts";
export { ShardRouter, type ShardRouterOptions } from "./router.ts";
export { SHARD_ISSUER, ShardAuth } from "./auth.ts";
export { ShardPool, type ShardPoolOptions } from "./pool.ts";
export type { ShardStats } from "./protocol.ts";
export type { VerifierOptions } from "../../auth/verifier.ts";
