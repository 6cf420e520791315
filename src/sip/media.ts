/**
 * The gateway's view of a call's RTP: a small plug point so the SIP half does not depend on
 * how RTP is done (the pure-Deno `src/rtp` session today, the native fast path later).
 *
 * @module
 */
import type { NegotiatedAudio, SdpDirection } from "./sdp.ts";

/** What a media leg is told to play and where. */
export interface MediaParameters {
  /** The agreed codec, payload types and the peer's RTP address. */
  readonly audio: NegotiatedAudio;
  /** Our direction as answered/offered (`sendonly` = we send, e.g. music on hold). */
  readonly direction: SdpDirection;
}

/**
 * One call's RTP.
 *
 * An implementation MUST have its local port bound when the factory resolves (it goes into
 * the SDP), MUST publish `voice/<sid>/uplink` with the codec's capability only once `start`
 * is called (publishing answers the call), MUST play `voice/<sid>/downlink` back as RTP,
 * MUST report received RFC 4733 digits and an inactivity timeout through the callbacks given
 * to the factory, and MUST make a second `close` a no-op.
 */
export interface MediaLeg extends AsyncDisposable {
  /** The bound RTP port. */
  readonly localPort: number;
  /** Starts media after the answer (or ACK). */
  start(parameters: MediaParameters): Promise<void>;
  /** Applies a new offer/answer (hold, resume, new remote address). */
  update(parameters: MediaParameters): Promise<void>;
  /** Plays DTMF digits as RFC 4733 events. */
  sendDigits(digits: string): Promise<void>;
  close(): Promise<void>;
}

/** What a {@linkcode MediaLegFactory} gets. */
export interface MediaLegInit {
  readonly sid: string;
  /** The peer's offer as negotiated, when the peer offered first (inbound calls). */
  readonly offer?: NegotiatedAudio;
  /** A digit (or several) received as RFC 4733 events. */
  readonly onDigits: (digits: string) => void;
  /** No RTP for the configured timeout after `start`. */
  readonly onInactive: () => void;
  /** The leg's voice-activity detector heard speech start or stop (µs since the epoch). */
  readonly onSpeech?: (state: "start" | "stop", atMicros: number) => void;
  /**
   * Whether anyone takes `onSpeech` now (asked per uplink frame; a leg runs its VAD only
   * while it says yes) [always, when `onSpeech` is given].
   */
  readonly speechWanted?: () => boolean;
  /**
   * Which of the call's tracks this leg publishes its RTP audio on and plays out
   * [`uplink`, `downlink`]. A B2BUA-side transfer target gets `{ publish: "downlink", play:
   * "uplink" }`: it hears the caller and the caller hears it, on the same sid.
   */
  readonly tracks?: { readonly publish: string; readonly play: string };
}

/** Makes a media leg (binds its port) for a call. */
export type MediaLegFactory = (init: MediaLegInit) => Promise<MediaLeg>;

/**
 * A media leg that binds a UDP port and ignores RTP: signalling-only gateways, and tests
 * below the RTP boundary.
 *
 * @example
 * ```ts ignore
 * import { assert } from "@std/assert";
 * import { signallingOnlyMedia } from "./media.ts";
 * const leg = await signallingOnlyMedia({ sid: "CA1", onDigits() {}, onInactive() {} });
 * assert(leg.localPort > 0);
 * await leg.close();
 * ```
 */
export const signallingOnlyMedia: MediaLegFactory = function signallingOnlyMedia() {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  let closed = false;
  const drain = async () => {
    try {
      for (;;) await socket.receive();
    } catch (error) {
      // close() ends the pending receive: that is how this loop ends.
      if (!closed) console.warn("Signalling-only media socket failed", error);
    }
  };
  drain();
  const close = () => {
    if (!closed) {
      closed = true;
      socket.close();
    }
    return Promise.resolve();
  };
  return Promise.resolve({
    localPort: (socket.addr as Deno.NetAddr).port,
    start: () => Promise.resolve(),
    update: () => Promise.resolve(),
    sendDigits: () => Promise.resolve(),
    close,
    [Symbol.asyncDispose]: close,
  });
};
