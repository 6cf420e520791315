/**
 * What every piece of the gateway (inbound, outbound, transfer, in-dialog) shares: the leg
 * table, the endpoint, the media factory, our SDP, and the one way a leg ends
 * ({@linkcode LegRuntime.finish}: report the end, then free the media).
 *
 * @module
 */
import { Core } from "sip.js";
import type { InboundCalls, LegProgress, SipEndReason } from "./calls_port.ts";
import type { Logger } from "../log/mod.ts";
import type { SipConfig } from "./config.ts";
import type { SipEndpoint } from "./endpoint.ts";
import { SipError } from "./error.ts";
import { LegTable, type SipLeg } from "./leg.ts";
import type { MediaLeg, MediaLegFactory } from "./media.ts";
import {
  answerDirection,
  defaultPayloadFormat,
  type NegotiatedAudio,
  type SipCodec,
  writeSdp,
} from "./sdp.ts";

/** Seconds a caller refused for want of RTP ports is asked to wait (calls last minutes). */
const RTP_PORTS_RETRY_AFTER_S = 5;

/** What a {@linkcode LegRuntime} is made of. */
export interface LegRuntimeOptions {
  readonly config: SipConfig;
  readonly endpoint: SipEndpoint;
  readonly media: MediaLegFactory;
  readonly calls: InboundCalls;
  readonly log: Logger;
  /** Codecs we accept, in preference order. */
  readonly codecs?: readonly SipCodec[];
}

/** A media leg's events, routed to the SIP leg once it exists. */
export interface MediaFor {
  readonly sid: string;
  readonly progress: LegProgress;
  readonly offer?: NegotiatedAudio;
  readonly tracks?: { readonly publish: string; readonly play: string };
  /** The leg the media belongs to (undefined until it is made). */
  readonly leg: () => SipLeg | undefined;
}

/** The gateway's shared state and the operations every piece uses. */
export class LegRuntime {
  readonly config: SipConfig;
  readonly endpoint: SipEndpoint;
  readonly calls: InboundCalls;
  readonly log: Logger;
  readonly codecs: readonly SipCodec[] | undefined;
  readonly legs: LegTable = new LegTable();
  readonly #media: MediaLegFactory;

  /** Wraps the gateway's parts. */
  constructor(options: LegRuntimeOptions) {
    this.config = options.config;
    this.endpoint = options.endpoint;
    this.calls = options.calls;
    this.log = options.log;
    this.codecs = options.codecs;
    this.#media = options.media;
  }

  /**
   * Binds a media leg (its port goes into the SDP) whose events reach `of.leg()`. Throws
   * {@linkcode SipError} 503 with `Retry-After` when no RTP port is free (as Kamailio and
   * FreeSWITCH answer when out of media resources): a busy server, not a broken one.
   */
  async newMedia(of: MediaFor): Promise<MediaLeg> {
    try {
      return await this.#bindMedia(of);
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      this.log.warn("No free RTP port: refusing the call with 503", { sid: of.sid });
      throw new SipError(503, "Service Unavailable", "No free RTP port", {
        headers: [`Retry-After: ${RTP_PORTS_RETRY_AFTER_S}`],
      });
    }
  }

  #bindMedia(of: MediaFor): Promise<MediaLeg> {
    return this.#media({
      sid: of.sid,
      ...(of.offer ? { offer: of.offer } : {}),
      ...(of.tracks ? { tracks: of.tracks } : {}),
      onDigits: (digits) => of.progress.digits?.(digits),
      ...(of.progress.speech
        ? {
          onSpeech: (state: "start" | "stop", atMicros: number) =>
            of.progress.speech?.(state, new Date(atMicros / 1000).toISOString()),
          ...(of.progress.speechWanted ? { speechWanted: () => of.progress.speechWanted!() } : {}),
        }
        : {}),
      onInactive: () => {
        const leg = of.leg();
        if (leg) void this.mediaTimeout(leg);
      },
    });
  }

  /**
   * The leg's RTP stopped: a confirmed leg ends `media_timeout` (BYE; see
   * {@linkcode terminate} for a 2xx not ACKed yet).
   */
  async mediaTimeout(leg: SipLeg): Promise<void> {
    // Before the answer the RTP port merely waits (a client may ring for longer).
    if (leg.state.name !== "confirmed") return;
    this.log.info("RTP inactivity: ending the call", { sid: leg.sid });
    await this.terminate(leg, "media_timeout", true);
  }

  /** Our SDP (an offer with `codecs`, or an answer to `audio`). */
  sdpBody(
    leg: Pick<SipLeg, "sdpSession" | "sdpVersion">,
    port: number,
    codecs: readonly SipCodec[],
    audio?: NegotiatedAudio,
  ): Core.Body {
    const content = writeSdp({
      sessionId: leg.sdpSession,
      version: leg.sdpVersion,
      address: this.endpoint.publicAddress,
      port,
      codecs: codecs.map((codec) => ({
        codec,
        ...defaultPayloadFormat(codec),
        ...(audio && audio.codec === codec
          ? { payloadType: audio.payloadType, clockRate: audio.clockRate, channels: audio.channels }
          : {}),
      })),
      dtmfPayloadType: audio ? audio.dtmfPayloadType : 101,
      dtmfClockRate: audio?.dtmfClockRate,
      dtmfEvents: audio?.dtmfEvents,
      cnPayloadType: audio?.cnPayloadType,
      direction: audio ? answerDirection(audio.remoteDirection) : "sendrecv",
      ptime: audio?.ptime,
    });
    return { contentDisposition: "session", contentType: "application/sdp", content };
  }

  /**
   * Our side ends the leg: BYE after the answer, CANCEL before it (outbound), a final
   * response to an unanswered INVITE (inbound: 480 after a ring timeout, else 487).
   *
   * An inbound 2xx not ACKed yet cannot be followed by BYE: RFC 3261 §15 says the callee
   * MUST NOT send BYE on a confirmed dialog until the ACK came or the server transaction
   * timed out (sip.js's `bye()` throws then). The leg ends now (its reason is what ended it,
   * e.g. `media_timeout`); the dialog keeps a delegate that sends the BYE on the late ACK,
   * or on the ACK timeout (§13.3.1.4: a 2xx never ACKed ends the session with BYE).
   */
  async terminate(leg: SipLeg, reason: SipEndReason, ours: boolean): Promise<void> {
    const state = leg.state;
    if (state.name === "terminated") return;
    let awaitingAck: Core.Session | undefined;
    try {
      if (state.name === "confirmed") {
        if (state.session.sessionState === Core.SessionState.AckWait) awaitingAck = state.session;
        else state.session.bye();
      } else if (state.pending.direction === "outbound") state.pending.outgoing.cancel();
      else if (ours) {
        state.pending.invite.reject({ statusCode: reason === "no_answer" ? 480 : 487 });
      }
    } catch (error) {
      // sip.js refuses a BYE before the 2xx is ACKed and a final response after one was
      // sent: the leg still ends here (its transactions time out on their own).
      this.log.debug("Cannot end SIP leg cleanly", { sid: leg.sid, reason, error });
    }
    // finish() terminates the leg (and detaches its delegates) before its first await.
    const finished = this.finish(leg, reason);
    if (awaitingAck) {
      byeAfterAck(
        awaitingAck,
        (error) => this.log.warn("Cannot send BYE after the late ACK", { sid: leg.sid, error }),
      );
    }
    await finished;
  }

  /**
   * The leg is over: terminated, forgotten, its media freed and its end reported. A second
   * call is a no-op.
   */
  async finish(leg: SipLeg, reason: SipEndReason, sipStatus?: number): Promise<void> {
    const state = leg.state;
    if (state.name === "terminated") return;
    leg.transition({ name: "terminated", reason });
    this.legs.delete(leg);
    if (state.name === "confirmed" && state.transfer?.kind === "b2bua" && state.transfer.target) {
      void this.terminate(state.transfer.target, "hangup", true);
    }
    // Keep the Call-ID routed a little longer: retransmitted BYE/200/ACK still find the core.
    this.endpoint.release(leg.callId, this.endpoint.lingerMs);
    // The RTP ports are freed now, not after the end is reported: a report waits on the
    // store, and under load legs lagging there held sockets for calls long over. (The calls
    // service reads a gateway leg's end from this report only, never from its tracks.)
    const closing = leg.media.close().catch((error) =>
      this.log.warn("Cannot close SIP leg media", { sid: leg.sid, error })
    );
    await leg.report(
      () => leg.progress.ended(reason, sipStatus === undefined ? undefined : { sipStatus }),
      (error) => this.log.warn("Cannot report SIP call end", { sid: leg.sid, error }),
    );
    await closing;
  }

  /** A progress report in the leg's order, failures logged. */
  report(leg: SipLeg, run: () => Promise<void>): Promise<void> {
    return leg.report(
      run,
      (error) => this.log.warn("Cannot report SIP call progress", { sid: leg.sid, error }),
    );
  }
}

/** Sends BYE on `session` when its initial 2xx is ACKed or its ACK times out. */
function byeAfterAck(session: Core.Session, onError: (error: unknown) => void): void {
  const bye = () => {
    session.delegate = undefined;
    try {
      session.bye();
    } catch (error) {
      onError(error);
    }
  };
  session.delegate = { onAck: bye, onAckTimeout: bye, onBye: (request) => request.accept() };
}
