/**
 * The `playbackControl` verb of the `fonoster` adapter, as Fonoster's media side carries it
 * out on Asterisk (`ari.playbacks.stop` for `STOP`, `ari.playbacks.control` with the action
 * as the operation otherwise): the named playback is paused, resumed, restarted from its
 * start or moved {@linkcode FORWARD_MS} ahead (Asterisk's default `skipms`). A ref that
 * names no playback now playing changes nothing, and the verb is answered all the same
 * (Fonoster ignores the ARI error and sends `playbackControlResponse`).
 *
 * @module
 */
import type { AgentLink } from "./adapter.ts";

/** How far `FORWARD` skips, ms (Asterisk's `skipms` default for ARI playbacks). */
export const FORWARD_MS = 3000;

/** The actions of `PlaybackControlRequest.Action`. */
export type PlaybackAction = "STOP" | "RESTART" | "PAUSE" | "UNPAUSE" | "FORWARD";

/** The part of an {@linkcode AgentLink} a playback control drives. */
export type PlaybackLink = Pick<AgentLink, "pause" | "seek" | "current">;

/**
 * Carries out a non-`STOP` action on the playout `item` (the playback's queued audio), if
 * it is the one playing (or the paused one). Returns whether anything changed.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { controlPlayback } from "./fonoster_playback.ts";
 * const calls: string[] = [];
 * const link = {
 *   current: { id: "play-1", playedMs: 400 },
 *   pause: (paused: boolean) => void calls.push(`pause ${paused}`),
 *   seek: (item: string, to: "start" | number) => (calls.push(`seek ${item} ${to}`), true),
 * };
 * assertEquals(controlPlayback(link, "play-1", "PAUSE"), true);
 * assertEquals(controlPlayback(link, "play-1", "FORWARD"), true);
 * assertEquals(controlPlayback(link, "play-2", "RESTART"), false);
 * assertEquals(calls, ["pause true", "seek play-1 3000"]);
 * ```
 */
export function controlPlayback(
  link: PlaybackLink,
  item: string,
  action: Exclude<PlaybackAction, "STOP">,
): boolean {
  if (link.current?.id !== item) return false;
  switch (action) {
    case "PAUSE":
      link.pause(true);
      return true;
    case "UNPAUSE":
      link.pause(false);
      return true;
    case "RESTART":
      return link.seek(item, "start");
    case "FORWARD":
      return link.seek(item, FORWARD_MS);
  }
}
