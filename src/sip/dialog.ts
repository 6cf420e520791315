/**
 * In-dialog requests on a confirmed leg: the ACK that starts media, BYE, re-INVITE and UPDATE
 * offers (hold, resume, a new remote address; RFC 3311 / RFC 4028 session refreshes), SIP INFO
 * digits, and REFER from the far end (declined: the gateway does not transfer on a peer's
 * request).
 *
 * @module
 */
import type { Core } from "sip.js";
import type { SipLeg } from "./leg.ts";
import type { LegRuntime } from "./leg_runtime.ts";
import { answerDirection, negotiateAudio, type NegotiatedAudio, parseSdp } from "./sdp.ts";
import { answerUpdates, sessionTimerHeaders } from "./session_update.ts";

/**
 * Takes over `session`'s delegate for `leg`. `onAck` runs once, on the ACK of our 2xx
 * (inbound calls start media there).
 */
export function watchSession(
  rt: LegRuntime,
  leg: SipLeg,
  session: Core.Session,
  onAck?: () => Promise<void>,
): void {
  session.delegate = {
    onAck: onAck
      ? () => {
        const start = onAck;
        onAck = undefined;
        return start?.().catch((error) =>
          rt.log.error("Cannot start media", { sid: leg.sid, error })
        );
      }
      : undefined,
    onAckTimeout: () => {
      // RFC 3261 §13.3.1.4: a 2xx never ACKed ends the session with BYE.
      try {
        session.bye();
      } catch (error) {
        rt.log.warn("Cannot send BYE after the ACK timeout", { sid: leg.sid, error });
      }
      void rt.finish(leg, "gateway_error");
    },
    onBye: (request) => {
      request.accept();
      void rt.finish(leg, "caller_hangup");
    },
    onInvite: (request) => onOffer(rt, leg, request),
    onInfo: (request) => {
      request.accept();
      const body = String(request.message.body ?? "");
      const signal = /Signal\s*=\s*([0-9*#A-D])/i.exec(body)?.[1];
      if (signal) leg.progress.digits?.(signal);
    },
    onRefer: (request) => request.reject({ statusCode: 603 }),
  };
  // RFC 3311 UPDATE: a session refresh (no SDP: 200 without a body) or an offer, applied
  // like a re-INVITE's.
  answerUpdates(session, (request) => {
    if (leg.isTerminated) return void request.reject({ statusCode: 481 });
    if (request.message.body) return onOffer(rt, leg, request);
    request.accept({ statusCode: 200, extraHeaders: sessionTimerHeaders(request.message) });
  });
}

/** A re-INVITE's or an UPDATE's offer (or a re-INVITE without one). */
function onOffer(rt: LegRuntime, leg: SipLeg, request: Core.IncomingRequest): void {
  const state = leg.state;
  if (state.name !== "confirmed") return void request.reject({ statusCode: 481 });
  const text = String(request.message.body ?? "");
  const extraHeaders = sessionTimerHeaders(request.message);
  const port = leg.media.localPort;
  if (!text) {
    // Offerless re-INVITE (session refresh without SDP): answer with our current offer.
    request.accept({
      statusCode: 200,
      body: rt.sdpBody(leg, port, [state.audio.codec], state.audio),
      extraHeaders,
    });
    return;
  }
  let audio: NegotiatedAudio;
  try {
    audio = negotiateAudio(parseSdp(text), [state.audio.codec]);
    // RFC 2543 hold: c=0.0.0.0 means the peer will not receive.
    if (audio.remote.address === "0.0.0.0" && audio.remoteDirection === "sendrecv") {
      audio = { ...audio, remoteDirection: "sendonly" };
    }
  } catch (error) {
    request.reject({ statusCode: 488, reasonPhrase: "Not Acceptable Here" });
    rt.log.debug("re-INVITE refused", { sid: leg.sid, error });
    return;
  }
  const changed = audio.remoteDirection !== state.audio.remoteDirection ||
    audio.remote.address !== state.audio.remote.address ||
    audio.remote.port !== state.audio.remote.port;
  const localDirection = answerDirection(audio.remoteDirection);
  leg.transition({ ...state, audio, localDirection });
  if (changed) leg.sdpVersion++;
  request.accept({
    statusCode: 200,
    body: rt.sdpBody(leg, port, [audio.codec], audio),
    extraHeaders,
  });
  leg.media.update({ audio, direction: localDirection }).catch((error) =>
    rt.log.warn("Cannot apply re-INVITE to media", { sid: leg.sid, error })
  );
}
