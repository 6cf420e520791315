/**
 * Inbound calls: an INVITE from a trunk is negotiated (488 when no codec fits), routed by the
 * called number (404 when no route matches), admitted to the calls control plane as an
 * `inbound` call with its own sid, and then handled as its route (or a webhook's answer)
 * says: ring a client (180, answered when the client answers), answer for an agent or a
 * plugin, or reject.
 *
 * @module
 */
import type { Core } from "sip.js";
import {
  type GatewayCall,
  isRetryLater,
  type LegProgress,
  type SipEndReason,
} from "./calls_port.ts";
import { type InboundAction, type InboundRoute, matchNumber, type TrunkConfig } from "./config.ts";
import { SdpError, SipError } from "./error.ts";
import { askInboundWebhook } from "./inbound_webhook.ts";
import { SipLeg } from "./leg.ts";
import type { LegRuntime } from "./leg_runtime.ts";
import { watchSession } from "./dialog.ts";
import {
  answerDirection,
  CODEC_CAPABILITY,
  negotiateAudio,
  type NegotiatedAudio,
  parseSdp,
  type SipCodec,
} from "./sdp.ts";

/** What an inbound call gets: a route's action, or a webhook's answer. */
export type ResolvedAction =
  | { readonly client: string }
  | { readonly agent: string }
  | { readonly plugin: string }
  | { readonly answer: true }
  | { readonly reject: number; readonly reason?: string; readonly endReason: SipEndReason };

/** What an INVITE asks for, checked: the audio we can agree on, the route, both parties. */
export interface InboundPlan {
  readonly audio: NegotiatedAudio;
  readonly route: InboundRoute;
  /** The called number (Request-URI user, else To user). */
  readonly called: string;
  /** The caller: E.164 with `+`, else a `sip:` URI. */
  readonly from: string;
}

/**
 * Checks an INVITE against our codecs and inbound routes. Throws {@linkcode SipError} 488
 * when the offer has nothing we accept, 404 when no route matches the called number.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { Core } from "sip.js";
 * import { parseSipConfig } from "./config.ts";
 * import { SipError } from "./error.ts";
 * import { planInbound } from "./inbound.ts";
 * const config = parseSipConfig({ inbound: [{ match: "+1415555*", action: { client: "alice" } }] });
 * const sdp = [
 *   "v=0",
 *   "o=- 1 1 IN IP4 198.51.100.10",
 *   "s=-",
 *   "c=IN IP4 198.51.100.10",
 *   "t=0 0",
 *   "m=audio 40000 RTP/AVP 0",
 *   "a=rtpmap:0 PCMU/8000",
 *   "",
 * ].join("\r\n");
 * const invite = (to: string) =>
 *   Core.Parser.parseMessage(
 *     [
 *       `INVITE sip:${to}@192.0.2.1 SIP/2.0`,
 *       "Via: SIP/2.0/UDP 198.51.100.10;branch=z9hG4bK1",
 *       "From: <sip:+14155550199@198.51.100.10>;tag=1",
 *       `To: <sip:${to}@192.0.2.1>`,
 *       "Call-ID: a@198.51.100.10",
 *       "CSeq: 1 INVITE",
 *       "Content-Type: application/sdp",
 *       `Content-Length: ${sdp.length}`,
 *       "",
 *       sdp,
 *     ].join("\r\n"),
 *     new Core.LoggerFactory().getLogger("sip.parser"),
 *   ) as Core.IncomingRequestMessage;
 * const plan = planInbound(invite("+14155550100"), config.inbound, ["g711_ulaw"]);
 * assertEquals([plan.route.action, plan.audio.codec], [{ client: "alice" }, "g711_ulaw"]);
 * assertEquals([plan.called, plan.from], ["+14155550100", "+14155550199"]);
 * assertThrows(() => planInbound(invite("+12125550100"), config.inbound), SipError, "No inbound route");
 * ```
 */
export function planInbound(
  message: Core.IncomingRequestMessage,
  routes: readonly InboundRoute[],
  codecs?: readonly SipCodec[],
): InboundPlan {
  let audio: NegotiatedAudio;
  try {
    audio = negotiateAudio(parseSdp(String(message.body ?? "")), codecs);
  } catch (error) {
    if (error instanceof SdpError) throw new SipError(488, "Not Acceptable Here", error.message);
    throw error;
  }
  const called = message.ruri?.user ?? message.to.uri.user ?? "";
  const route = routes.find((r) => matchNumber(r.match, called));
  if (!route) throw new SipError(404, "Not Found", `No inbound route for "${called}"`);
  return { audio, route, called, from: callerOf(message) };
}

/**
 * The route's action; a webhook's answer (see `inbound_webhook.ts`) mapped onto it. A
 * webhook that fails or times out becomes a rejection with its SIP status and
 * `gateway_error`.
 */
export async function resolveAction(
  action: InboundAction,
  call: GatewayCall,
  options: { readonly webhookTimeoutMs: number; readonly onWebhookError: (e: unknown) => void },
): Promise<ResolvedAction> {
  if (!("webhook" in action)) return action;
  try {
    const answer = await askInboundWebhook(action.webhook, call, {
      timeoutMs: options.webhookTimeoutMs,
    });
    switch (answer.action) {
      case "client":
        return { client: answer.identity };
      case "agent":
        return { agent: answer.agent };
      case "answer":
        return { answer: true };
      case "reject":
        return { reject: answer.status, endReason: "rejected" };
    }
  } catch (error) {
    const sip = error instanceof SipError ? error : new SipError(500, "Server Internal Error");
    options.onWebhookError(error);
    return { reject: sip.status, reason: sip.reason, endReason: "gateway_error" };
  }
}

/** Handles a new INVITE from `trunk` (admitted by the endpoint) to its end or its answer. */
export async function handleInvite(
  rt: LegRuntime,
  request: Core.IncomingInviteRequest,
  trunk: TrunkConfig | undefined,
): Promise<void> {
  const message = request.message;
  let leg: SipLeg | undefined;
  let admittedProgress: LegProgress | undefined;
  try {
    request.trying();
    const plan = planInbound(message, rt.config.inbound, rt.codecs);
    const { call, progress } = await rt.calls.admitInbound({
      from: plan.from,
      to: plan.called || "unknown",
      capabilities: [CODEC_CAPABILITY[plan.audio.codec]],
    });
    admittedProgress = progress;
    // A CANCEL or a hangup while the media port is bound still ends the call.
    let canceled = false;
    request.delegate = { onCancel: () => void (canceled = true) };
    const media = await rt.newMedia({
      sid: call.sid,
      progress,
      offer: plan.audio,
      leg: () => leg,
    });
    leg = new SipLeg({
      sid: call.sid,
      callId: message.callId,
      progress,
      media,
      pending: { direction: "inbound", invite: request, offer: plan.audio },
      remoteIdentity: plan.from,
      contact: rt.endpoint.contactFor(message.callId),
      trunk,
    });
    const admitted = leg;
    rt.legs.add(admitted);
    request.delegate = { onCancel: () => void rt.terminate(admitted, "canceled", false) };
    progress.signal.addEventListener(
      "abort",
      () => void rt.terminate(admitted, endedFor(progress.signal.reason), true),
      { once: true, signal: admitted.ended },
    );
    if (canceled) return await rt.terminate(admitted, "canceled", false);
    if (progress.signal.aborted) {
      return await rt.terminate(admitted, endedFor(progress.signal.reason), true);
    }
    const action = await resolveAction(plan.route.action, call, {
      webhookTimeoutMs: rt.config.webhookTimeoutMs,
      onWebhookError: (error) => rt.log.warn("Inbound webhook failed", { sid: call.sid, error }),
    });
    if (admitted.isTerminated) return;
    if ("reject" in action) {
      request.reject({ statusCode: action.reject, reasonPhrase: action.reason });
      return await rt.finish(admitted, action.endReason, action.reject);
    }
    if ("client" in action) {
      request.progress({ statusCode: 180 });
      admitted.transition({ name: "early", pending: admitted.pending! });
      // The client's answer reaches the gateway as an explicit `answer(sid)`.
      await rt.calls.ringClient(call.sid, action.client);
      return;
    }
    answerInbound(
      rt,
      admitted,
      "agent" in action ? () => rt.calls.transfer(call.sid, { agent: action.agent }) : undefined,
    );
  } catch (error) {
    const sip = asSipError(error);
    if (isRetryLater(error)) {
      rt.log.warn("Refusing an inbound INVITE with 503: the call store is unavailable", {
        callId: message.callId,
      });
    } else if (!(error instanceof SipError)) rt.log.error("Inbound INVITE failed", { error });
    if (!leg || leg.pending) {
      try {
        request.reject({
          statusCode: sip.status,
          reasonPhrase: sip.reason,
          extraHeaders: [...sip.headers],
        });
      } catch (rejectError) {
        // The INVITE already has its final response (e.g. a CANCEL's 487 crossed).
        rt.log.debug("Cannot reject inbound INVITE", { status: sip.status, error: rejectError });
      }
    }
    if (leg) await rt.finish(leg, "rejected", sip.status);
    else {
      rt.endpoint.release(message.callId);
      // Admitted, but no leg was made (e.g. no RTP port): the call still ends.
      await admittedProgress?.ended(sip.status >= 500 ? "gateway_error" : "rejected", {
        sipStatus: sip.status,
      }).catch((error) => rt.log.warn("Cannot report SIP call end", { error }));
    }
  }
}

/**
 * The final response for an INVITE that failed with `error`: a {@linkcode SipError} as it is;
 * the control plane refusing for now (its store fails) 503 with `Retry-After`, so the trunk
 * retries or routes elsewhere (RFC 3261 §21.5.4, as Kamailio answers when its database is
 * down); anything else 500.
 */
function asSipError(error: unknown): SipError {
  if (error instanceof SipError) return error;
  if (isRetryLater(error)) {
    return new SipError(503, "Service Unavailable", "The call store is unavailable", {
      headers: [`Retry-After: ${Math.ceil(error.retryAfterSec)}`],
    });
  }
  return new SipError(500, "Server Internal Error");
}

/**
 * Answers an inbound leg (200 with our SDP answer). Media starts, and `answered` is reported,
 * when the ACK comes; `then` runs after that report (an agent route's hand-over).
 * Does nothing to a leg that is no longer ringing.
 */
export function answerInbound(
  rt: LegRuntime,
  leg: SipLeg,
  then?: () => Promise<unknown>,
): void {
  const pending = leg.pending;
  if (!pending || pending.direction !== "inbound") return;
  const audio = pending.offer;
  const localDirection = answerDirection(audio.remoteDirection);
  const response = pending.invite.accept({
    statusCode: 200,
    body: rt.sdpBody(leg, leg.media.localPort, [audio.codec], audio),
  });
  leg.transition({ name: "confirmed", session: response.session, audio, localDirection });
  watchSession(rt, leg, response.session, () =>
    rt.report(leg, async () => {
      const state = leg.state;
      if (state.name !== "confirmed") return;
      await leg.media.start({ audio: state.audio, direction: state.localDirection });
      await leg.progress.answered();
      if (then) {
        // After the report, outside the chain: the hand-over must not hold later reports.
        void Promise.resolve().then(then).catch((error) =>
          rt.log.warn("Inbound route action failed", { sid: leg.sid, error })
        );
      }
    }));
}

/**
 * How an inbound leg ends when the control plane ends its call: a client that was not rung
 * (not registered) or did not answer in time is `no_answer` (a ringing INVITE then gets 480
 * Temporarily Unavailable, RFC 3261 §21.4.18), anything else a hangup (487 before the answer,
 * BYE after).
 */
function endedFor(reason: unknown): SipEndReason {
  return reason === "no_answer" || reason === "client_not_registered" ? "no_answer" : "hangup";
}

/** The caller as E.164 (with `+`) when the From user is a number, else a `sip:` URI. */
export function callerOf(message: Core.IncomingRequestMessage): string {
  const user = message.from.uri.user ?? "";
  if (/^\+?[1-9]\d{1,14}$/.test(user)) return user.startsWith("+") ? user : `+${user}`;
  return `sip:${user ? user + "@" : ""}${message.from.uri.host}`;
}
