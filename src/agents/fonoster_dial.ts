/**
 * The `dial` verb of the `fonoster` adapter, as Fonoster's media side carries it out
 * (`createDialHandler`: a mixing bridge with the caller, an originated channel to the
 * destination through the trunk with the call's ingress number as its caller id, the
 * callee added to the bridge once it answers, both hung up and the bridge destroyed when
 * the callee leaves): a second leg through the calls control plane ({@linkcode dialLeg}),
 * bridged to the caller once answered. Its progress goes to the app as the proto's
 * `dialStatus` messages: `TRYING` at once, then the Asterisk dial statuses Fonoster maps
 * ({@linkcode dialStatusOf}).
 *
 * Note: `@fonoster/voice` 0.18.2 waits for a message whose content is `dialResponse`, a
 * field its own proto does not have (the field is `dial_status`), so its `dial()` promise
 * resolves on no media side; an app sees the statuses as `dialStatus` stream data.
 *
 * @module
 */

/** `DialStatus.Status` names. */
export type DialStatusName =
  | "TRYING"
  | "CANCEL"
  | "ANSWER"
  | "BUSY"
  | "PROGRESS"
  | "NOANSWER"
  | "FAILED";

/**
 * The dial status an app is told when the dialed call reaches `status` (`endReason` once
 * it ended), or `undefined` for none: ringing is Asterisk's `RINGING`, which Fonoster's
 * `mapDialStatus` drops; the end of an answered leg is no dial status either.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { dialStatusOf } from "./fonoster_dial.ts";
 * assertEquals(dialStatusOf("in_progress", undefined, false), "ANSWER");
 * assertEquals(dialStatusOf("failed", "busy", false), "BUSY");
 * assertEquals(dialStatusOf("no_answer", "no_answer", false), "NOANSWER");
 * assertEquals(dialStatusOf("completed", "hangup", false), "CANCEL");
 * assertEquals(dialStatusOf("completed", "hangup", true), undefined);
 * assertEquals(dialStatusOf("ringing", undefined, false), undefined);
 * ```
 */
export function dialStatusOf(
  status: string,
  endReason: string | undefined,
  answered: boolean,
): DialStatusName | undefined {
  if (status === "in_progress") return answered ? undefined : "ANSWER";
  if (endReason === "busy") return "BUSY";
  if (status === "no_answer") return "NOANSWER";
  if (status === "failed") return "FAILED";
  if (status === "completed") return answered ? undefined : "CANCEL";
  return undefined;
}
