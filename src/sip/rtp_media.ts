/**
 * The gateway's media on `src/rtp`: one {@linkcode RtpSession} per call (opened when the
 * leg is made, so its port goes into the SDP) and an {@linkcode RtpLeg} publishing the
 * uplink with the negotiated capability and playing the downlink, started at answer time.
 *
 * @module
 */
import type { Origin } from "../relay/model/origin.ts";
import {
  type RtpEngine,
  RtpLeg,
  type RtpPayloadMap,
  RtpSession,
  type SpeechEvent,
} from "../rtp/mod.ts";
import type { MediaLeg, MediaLegFactory, MediaParameters } from "./media.ts";
import type { NegotiatedAudio } from "./sdp.ts";

/** Options for {@linkcode rtpMedia}. */
export interface RtpMediaOptions {
  readonly origin: Origin;
  /** Address to bind RTP on ["0.0.0.0"]. */
  readonly hostname?: string;
  readonly portRange?: readonly [number, number];
  /** No RTP for this long ends the call, ms [30000]. */
  readonly inactivityTimeoutMs?: number;
  /**
   * Run the on-box VAD on uplinks, reporting speech start/stop as call events [true]: a call
   * nobody attached to still tells its observers when the caller talks.
   */
  readonly vad?: boolean;
  /** The RTP engine the sessions run on [`defaultRtpEngine()`] (`sip.rtpEngine`). */
  readonly engine?: RtpEngine;
}

/**
 * The RTP payload map of what SDP negotiated (PCMU with telephone-event/8000 before an
 * answer is known). Telephone-event keeps the clock rate the peer offered for it, which may
 * differ from the audio's (an Opus offer with `telephone-event/8000`).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { payloadMapOf } from "./rtp_media.ts";
 * assertEquals(payloadMapOf(undefined).audio.codec, "g711_ulaw");
 * ```
 */
export function payloadMapOf(audio: NegotiatedAudio | undefined): RtpPayloadMap {
  if (!audio) {
    return {
      audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
      telephoneEvent: { payloadType: 101, clockRate: 8000 },
    };
  }
  return {
    audio: { payloadType: audio.payloadType, codec: audio.codec, clockRate: audio.clockRate },
    ...(audio.dtmfPayloadType === undefined ? {} : {
      telephoneEvent: {
        payloadType: audio.dtmfPayloadType,
        clockRate: audio.dtmfClockRate ?? audio.clockRate,
      },
    }),
    ...(audio.cnPayloadType === undefined
      ? {}
      : { comfortNoise: { payloadType: audio.cnPayloadType } }),
  };
}

/**
 * A {@linkcode MediaLegFactory} on the pure-Deno RTP path.
 *
 * @example
 * ```ts ignore
 * import { rtpMedia } from "./rtp_media.ts";
 * const media = rtpMedia({ origin: relay.origin, portRange: [20000, 29999] });
 * ```
 */
export function rtpMedia(options: RtpMediaOptions): MediaLegFactory {
  const hostname = options.hostname ?? "0.0.0.0";
  const range = options.portRange
    ? { min: options.portRange[0], max: options.portRange[1] }
    : undefined;
  return async function rtpMediaLeg(init) {
    const open = (payloads: RtpPayloadMap, port?: number) =>
      RtpSession.open({
        hostname,
        payloads,
        // The same (even) port again, with its RTCP port: a one-port range would be empty.
        portRange: port ? { min: port, max: port + 1 } : range,
        inactivityTimeoutMs: options.inactivityTimeoutMs ?? 30_000,
        ...(options.engine ? { engine: options.engine } : {}),
      });
    let session = await open(payloadMapOf(init.offer));
    const port = session.localPort;
    let leg: RtpLeg | undefined;
    let closed = false;
    const wire = (s: RtpSession) => {
      s.on("dtmf", (event) => event.digit && init.onDigits(event.digit));
      s.on("inactive", () => init.onInactive());
    };
    wire(session);
    const apply = (p: MediaParameters) => {
      session.direction = p.direction;
      if (p.audio.remote.address !== "0.0.0.0") {
        session.setRemote({ hostname: p.audio.remote.address, port: p.audio.remote.port });
      }
    };
    const close = async () => {
      if (closed) return;
      closed = true;
      if (leg) await leg.stop();
      else await session.close();
    };
    const media: MediaLeg = {
      localPort: port,
      async start(p) {
        const wanted = payloadMapOf(p.audio);
        if (JSON.stringify(wanted) !== JSON.stringify(session.payloads)) {
          // The answer picked another codec than the provisional map: reopen on the same port.
          await session.close();
          session = await open(wanted, port);
          wire(session);
        }
        apply(p);
        leg = await RtpLeg.start({
          origin: options.origin,
          sid: init.sid,
          session,
          vad: options.vad ?? true,
          ptimeMs: p.audio.ptime,
          ...(init.onSpeech
            ? {
              onSpeech: (e: SpeechEvent) =>
                init.onSpeech!(e.type === "speech_start" ? "start" : "stop", e.at),
            }
            : {}),
          // No consumer, no VAD: a leg nobody takes speech events from does not decode its
          // uplink for it (an unset onSpeech: never).
          speechWanted: init.onSpeech ? init.speechWanted ?? (() => true) : () => false,
          ...(init.tracks ? { tracks: init.tracks } : {}),
        });
      },
      update(p) {
        apply(p);
        return Promise.resolve();
      },
      sendDigits: (digits) => session.sendDigits(digits),
      close,
      [Symbol.asyncDispose]: close,
    };
    return media;
  };
}
