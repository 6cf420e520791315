/**
 * The relay's protocol-neutral model: origins, tracks, groups and objects, with
 * producer/consumer handles (closing a producer ends every consumer; cloning a consumer is
 * fan-out), and capability routing. No wire format and no media knowledge lives here.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Origin } from "@clutchcall/voice/relay";
 *
 * const origin = new Origin();
 * const routed: string[] = [];
 * using _route = origin.route("voice/*", (track) => routed.push(track.info.name));
 * origin.publishTrack({ namespace: ["voice", "CA1"], name: "uplink", capability: "voice/opus" });
 * assertEquals(routed, ["uplink"]);
 * ```
 *
 * @module
 */
export * from "./authorize.ts";
export * from "./capability.ts";
export * from "./copy_track.ts";
export * from "./group.ts";
export * from "./local_tracks.ts";
export * from "./object.ts";
export * from "./origin.ts";
export * from "./track.ts";
export * from "./track_error.ts";
export * from "./stream_budget.ts";
