/**
 * In-dialog UPDATE (RFC 3311) for sip.js core sessions, which answer it 501 on their own,
 * and the RFC 4028 session-timer headers for a refresh's 2xx.
 *
 * @module
 */
import { Core } from "sip.js";
// Puts UPDATE in the methods sip.js's cores accept (a session without answerUpdates answers
// it 501 as before).
import "./methods.ts";

/**
 * Makes `session` hand in-dialog UPDATE requests to `onUpdate` (after the dialog's CSeq
 * checks and target refresh, as for any in-dialog request) instead of answering 501.
 * `onUpdate` MUST answer the request: 200 (with an SDP answer when it carried an offer)
 * or an error.
 *
 * @example
 * ```ts ignore
 * import { answerUpdates } from "./session_update.ts";
 * answerUpdates(session, (request) => request.accept({ statusCode: 200 }));
 * ```
 */
export function answerUpdates(
  session: Core.Session,
  onUpdate: (request: Core.IncomingRequest) => void,
): void {
  const dialog = session as unknown as Core.SessionDialog & {
    sequenceGuard(message: Core.IncomingRequestMessage): boolean;
  };
  const receive = dialog.receiveRequest.bind(dialog);
  dialog.receiveRequest = (message) => {
    if (message.method !== "UPDATE") return receive(message);
    if (!dialog.sequenceGuard(message)) return;
    // The base dialog's common in-dialog processing: remote CSeq, remote target.
    Core.Dialog.prototype.receiveRequest.call(dialog, message);
    onUpdate(
      new Core.UserAgentServer(Core.NonInviteServerTransaction, dialog.userAgentCore, message),
    );
  };
}

/**
 * The RFC 4028 headers a 2xx to a refresh (re-INVITE or UPDATE) carries: the request's
 * `Session-Expires` echoed (the refresher defaults to the requester, `uac`) and `Require:
 * timer` when the requester supports timers. None when the request asked for no timer.
 *
 * @example
 * ```ts ignore
 * request.accept({ statusCode: 200, extraHeaders: sessionTimerHeaders(request.message) });
 * ```
 */
export function sessionTimerHeaders(message: Core.IncomingRequestMessage): string[] {
  const expires = message.getHeader("Session-Expires");
  const match = expires ? /^\s*(\d+)\s*(;.*)?$/.exec(expires) : null;
  if (!match) return [];
  const params = match[2] ?? "";
  const refresher = /;\s*refresher\s*=\s*(uac|uas)/i.exec(params)?.[1]?.toLowerCase() ?? "uac";
  const supported = (message.getHeaders("Supported").join(",") + "," +
    message.getHeaders("k").join(",")).split(",").map((s) => s.trim().toLowerCase());
  return [
    `Session-Expires: ${match[1]};refresher=${refresher}`,
    ...(supported.includes("timer") ? ["Require: timer"] : []),
  ];
}
