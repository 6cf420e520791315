/**
 * An RTP leg: joins an {@linkcode RtpSession} to a call's tracks on an in-process
 * {@linkcode Origin}. Inbound RTP audio is published on `voice/<sid>/uplink` with the
 * negotiated capability (no transcoding); `voice/<sid>/downlink` is played out as RTP in the
 * negotiated codec (transcoded only when the track's capability differs). Optionally a VAD
 * watches the uplink and reports speech start/stop — for calls nobody bridged, and it keeps
 * running when a bridge attaches later.
 *
 * @module
 */
import { decodeAlaw, decodeUlaw } from "../codecs/g711.ts";
import { pcm16FromBytes } from "../codecs/pcm16.ts";
import { createTranscoder, type Transcoder } from "../codecs/transcoder.ts";
import type { Origin, TrackProducer } from "../relay/model/mod.ts";
import type { Logger } from "../log/mod.ts";
import { callNamespace, type Sid } from "../voice/track.ts";
import { DownlinkPlayer, type DownlinkStats } from "./downlink_player.ts";
import { capabilityOfRtp } from "./payload_types.ts";
import type { RtpSession, RtpSessionStats } from "./session.ts";
import { UplinkPublisher } from "./uplink_publisher.ts";
import { type SpeechEvent, type VadOptions, VoiceActivityDetector } from "./vad.ts";

export type { DownlinkStats } from "./downlink_player.ts";

/**
 * Options of {@linkcode RtpLeg.start}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { RtpLegOptions } from "./leg.ts";
 * import { RtpSession } from "./session.ts";
 * import { Origin } from "../relay/model/mod.ts";
 * await using session = await RtpSession.open({
 *   hostname: "127.0.0.1",
 *   payloads: { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } },
 * });
 * const speech: string[] = [];
 * const options: RtpLegOptions = {
 *   origin: new Origin(), sid: "CA1", session,
 *   vad: { mode: 2 }, onSpeech: (e) => speech.push(e.type),
 * };
 * assertEquals(options.session.localPort % 2, 0);
 * ```
 */
export interface RtpLegOptions {
  /** The in-process origin the call's tracks live on. */
  readonly origin: Origin;
  /** The call. */
  readonly sid: Sid | string;
  /** The leg's RTP session (payload types negotiated). The leg listens to its audio. */
  readonly session: RtpSession;
  /** Run a VAD on the uplink (default off); `true` = default options. */
  readonly vad?: VadOptions | boolean;
  /** Speech start/stop from the VAD. */
  readonly onSpeech?: (event: SpeechEvent) => void;
  /**
   * Whether anyone takes the speech events now, asked once per uplink frame [always]: while
   * it says no, the VAD is not fed (no G.711 decode, no fvad: ~6 % of the server's CPU at 100
   * calls/s when every call ran it for nobody), and when it says yes again detection starts
   * over (not speaking). Keep it cheap: it runs 50 times a second per call.
   */
  readonly speechWanted?: () => boolean;
  /** Downlink audio buffered ahead of real time before the oldest is dropped (default 5000). */
  readonly maxDownlinkQueueMs?: number;
  /** The negotiated ptime: silence is sent in frames this long while nothing plays [20]. */
  readonly ptimeMs?: number;
  /**
   * Track names under `voice/<sid>/`: the one RTP audio is published on [uplink] and the one
   * played out as RTP [downlink]. A B2BUA-side transfer swaps them for the new far end, so
   * it hears the caller's uplink and speaks on the caller's downlink.
   */
  readonly tracks?: { readonly publish?: string; readonly play?: string };
  /** Close the session when the leg stops (default true). */
  readonly closeSession?: boolean;
  readonly logger?: Logger;
}

/**
 * Counters of a leg.
 *
 * @example
 * ```ts
 * import type { RtpLegStats } from "./leg.ts";
 * const flowing = (s: RtpLegStats) => s.uplinkPublished > 0 && s.downlink.played > 0;
 * ```
 */
export interface RtpLegStats {
  readonly session: RtpSessionStats;
  /** Objects published on the uplink. */
  readonly uplinkPublished: number;
  readonly downlink: DownlinkStats;
  /** Frames the VAD classified. */
  readonly vadFrames: number;
}

/**
 * A running RTP leg. Stop it with `stop()` or `await using`; stopping ends the uplink
 * track, stops the downlink and (by default) closes the session. Stopping twice is a no-op.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Origin } from "../relay/model/mod.ts";
 * import { RtpLeg, RtpSession, type SpeechEvent } from "./mod.ts";
 * const origin = new Origin();
 * const session = await RtpSession.open({
 *   hostname: "127.0.0.1",
 *   payloads: { audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 } },
 * });
 * const speech: SpeechEvent[] = [];
 * await using leg = await RtpLeg.start({
 *   origin, sid: "CA1", session, vad: true,
 *   onSpeech: (e) => speech.push(e),
 * });
 * // The caller's audio is the call's uplink track, as it arrives (µ-law, untranscoded).
 * const uplink = await origin.subscribe(["voice", "CA1"], "uplink");
 * assertEquals(uplink.info.capability, "voice/g711_ulaw");
 * assertEquals(speech, []); // no RTP yet, so no speech
 * ```
 */
export class RtpLeg implements AsyncDisposable {
  readonly #session: RtpSession;
  readonly #track: TrackProducer;
  readonly #uplink: UplinkPublisher;
  readonly #downlink: DownlinkPlayer;
  readonly #closeSession: boolean;
  readonly #onSpeech: ((event: SpeechEvent) => void) | undefined;
  readonly #speechWanted: (() => boolean) | undefined;
  /** The VAD skipped frames (nobody wanted speech): it starts over on the next one it gets. */
  #vadIdle = false;
  #vad: VoiceActivityDetector | undefined;
  #vadDecoder: ((payload: Uint8Array) => Int16Array | undefined) | undefined;
  #vadTranscoder: Transcoder | undefined;
  #vadFrames = 0;
  readonly #audioListener: Disposable;
  #stopped = false;

  private constructor(options: RtpLegOptions) {
    const { origin, sid, session, closeSession = true, maxDownlinkQueueMs = 5000 } = options;
    const namespace = callNamespace(sid);
    const format = session.payloads.audio;
    this.#session = session;
    this.#closeSession = closeSession;
    this.#onSpeech = options.onSpeech;
    this.#speechWanted = options.speechWanted;
    this.#track = origin.publishTrack({
      namespace,
      name: options.tracks?.publish ?? "uplink",
      capability: capabilityOfRtp(format),
    });
    this.#uplink = new UplinkPublisher(
      this.#track,
      format,
      (payload, at) => this.#detect(payload, at),
    );
    this.#audioListener = session.on("audio", (frame) => this.#uplink.push(frame));
    this.#downlink = new DownlinkPlayer({
      origin,
      namespace,
      track: options.tracks?.play ?? "downlink",
      session,
      maxQueueMs: maxDownlinkQueueMs,
      ...(options.ptimeMs ? { ptimeMs: options.ptimeMs } : {}),
      logger: options.logger,
    });
  }

  /**
   * Starts a leg: publishes the uplink, starts waiting for the downlink, and loads the VAD
   * when asked for.
   *
   * @throws {TrackError} when the call's uplink is already published by someone else.
   */
  static async start(options: RtpLegOptions): Promise<RtpLeg> {
    const leg = new RtpLeg(options);
    if (options.vad) {
      try {
        await leg.enableVad(options.vad === true ? {} : options.vad);
      } catch (error) {
        await leg.stop();
        throw error;
      }
    }
    return leg;
  }

  /** The session. */
  get session(): RtpSession {
    return this.#session;
  }

  /** Whether a VAD runs on the uplink. */
  get vadEnabled(): boolean {
    return this.#vad !== undefined;
  }

  /** Counters. */
  get stats(): RtpLegStats {
    return {
      session: this.#session.stats,
      uplinkPublished: this.#uplink.published,
      downlink: this.#downlink.stats,
      vadFrames: this.#vadFrames,
    };
  }

  /**
   * Starts (or restarts with new options) voice-activity detection on the uplink. G.711 is
   * decoded only while the VAD runs; Opus is decoded at 8 kHz for it.
   */
  async enableVad(options: VadOptions = {}): Promise<void> {
    const vad = await VoiceActivityDetector.create({ ...options, sampleRate: 8000 });
    const codec = this.#session.payloads.audio.codec;
    let decoder: (payload: Uint8Array) => Int16Array | undefined;
    let transcoder: Transcoder | undefined;
    if (codec === "g711_ulaw") {
      const pcm = new Int16Array(160);
      decoder = (payload) => payload.length === 160 ? decodeUlaw(payload, pcm) : undefined;
    } else if (codec === "g711_alaw") {
      const pcm = new Int16Array(160);
      decoder = (payload) => payload.length === 160 ? decodeAlaw(payload, pcm) : undefined;
    } else {
      const t = transcoder = await createTranscoder({
        from: { codec: "opus", sampleRate: 48000, channels: 1, frameMs: 20 },
        to: { codec: "pcm16", sampleRate: 8000, channels: 1, frameMs: 20 },
      });
      decoder = (payload) => {
        const out = t.transcode(payload);
        return out.length > 0 ? pcm16FromBytes(out[out.length - 1]) : undefined;
      };
    }
    if (this.#stopped) {
      vad.close();
      transcoder?.close();
      return;
    }
    this.disableVad();
    this.#vad = vad;
    this.#vadDecoder = decoder;
    this.#vadTranscoder = transcoder;
  }

  /** Stops voice-activity detection (no decoding from then on). */
  disableVad(): void {
    this.#vad?.close();
    this.#vadTranscoder?.close();
    this.#vad = undefined;
    this.#vadDecoder = undefined;
    this.#vadTranscoder = undefined;
  }

  /** Stops the leg. Twice is a no-op. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // What the reorder buffer holds behind a gap was accepted: it goes up before the track ends.
    this.#session.flushReceived();
    this.#audioListener[Symbol.dispose]();
    this.#uplink.close();
    this.disableVad();
    await this.#downlink.stop();
    if (this.#closeSession) await this.#session.close();
  }

  /** Same as `stop()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #detect(payload: Uint8Array, at: number): void {
    const vad = this.#vad;
    if (!vad) return;
    if (this.#speechWanted !== undefined && !this.#speechWanted()) {
      this.#vadIdle = true;
      return;
    }
    if (this.#vadIdle) {
      this.#vadIdle = false;
      vad.restart();
    }
    const pcm = this.#vadDecoder!(payload);
    if (!pcm || pcm.length !== 160) return;
    this.#vadFrames++;
    const event = vad.process(pcm, at);
    if (event) this.#onSpeech?.(event);
  }
}
