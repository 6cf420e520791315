/**
 * The AudioBridge: one call leg's two tracks seen from one side. `attach()` is the server
 * side (reads what the caller says on `uplink`, plays back on `downlink`); `attachCaller()`
 * is the caller's mirror image. Either way the application reads and writes frames in the
 * format it asked for, and the bridge transcodes to and from what the tracks carry.
 *
 * @module
 */
import { capabilityOf, type Codec, isCodec } from "../codecs/codec.ts";
import { CodecError } from "../codecs/error.ts";
import type { MediaFormat, TranscoderOpusOptions } from "../codecs/transcoder.ts";
import { type TrackConsumer, TrackError, type TrackProducer } from "../relay/model/mod.ts";
import {
  callNamespace,
  parseSid,
  type Sid,
  trackFormatOf,
  type VoiceDirection,
} from "../voice/track.ts";
import { type BridgeFormat, type BridgeFormatOptions, resolveBridgeFormat } from "./format.ts";
import { type BridgeConnection, bridgeConnectionOf, type BridgeVia } from "./connection.ts";
import { type BridgeFrame, FrameReceiver, type ReceiverStats } from "./frame_receiver.ts";
import { FrameSender, type SenderStats } from "./frame_sender.ts";

/**
 * Options of {@linkcode attach} and {@linkcode attachCaller}. The format fields describe
 * the frames the application reads and writes (defaults: Opus, 48000 Hz, mono, 20 ms).
 *
 * @example
 * ```ts
 * import type { AttachOptions } from "@clutchcall/voice/bridge";
 * const forAsr: AttachOptions = { sid: "CA1", codec: "pcm16", sampleRate: 16000, maxLatencyMs: 100 };
 * ```
 */
export interface AttachOptions extends BridgeFormatOptions {
  /** The call id. */
  readonly sid: string;
  /**
   * Codec of the track this side publishes. Default for `attach()`: the codec the caller's
   * uplink carries (so a phone leg gets back what it sends); for `attachCaller()`: `codec`.
   */
  readonly publishCodec?: Codec;
  /** Oldest a received frame may be when read before it is dropped, ms [200]. */
  readonly maxLatencyMs?: number;
  /** Opus encoder settings when the bridge encodes Opus. */
  readonly opus?: TranscoderOpusOptions;
}

/**
 * Counters of a bridge: the receiving side's playout counters (in track frames),
 * frames delivered (in the attached duration), and the publishing side's counters.
 *
 * @example
 * ```ts
 * import type { BridgeStats } from "@clutchcall/voice/bridge";
 * const healthy = (s: BridgeStats) => s.lateDropped + s.transcodeErrors < s.received / 100;
 * ```
 */
export interface BridgeStats extends ReceiverStats, SenderStats {}

/**
 * One track of a bridge: its name, capability and the media format it carries.
 *
 * @example
 * ```ts
 * import type { BridgeTrack } from "@clutchcall/voice/bridge";
 * const describe = (t: BridgeTrack) => `${t.name}: ${t.capability} @ ${t.format.sampleRate} Hz`;
 * ```
 */
export interface BridgeTrack {
  /** The track name: `"uplink"` or `"downlink"`. */
  readonly name: VoiceDirection;
  /** The track's capability tag (`voice/<codec>`). */
  readonly capability: string;
  /** The media format the track carries. */
  readonly format: Required<MediaFormat>;
}

/**
 * An attached call leg: an async iterable of the frames received from the peer, and
 * `write()` for the frames to send it. Close it (or `await using`) to tear down both
 * tracks; closing twice is a no-op.
 *
 * `write()` does not pace: write in real time (one frame per frame duration). A writer
 * running ahead of real time only fills the peer's playout buffer, whose latency bound then
 * drops the excess.
 *
 * @example
 * ```ts ignore
 * import { attach } from "./audio_bridge.ts";
 * import type { MoqClient } from "../relay/client.ts";
 * declare const client: MoqClient;
 *
 * await using leg = await attach(client, { sid: "CA1", codec: "pcm16", sampleRate: 16000 });
 * for await (const frame of leg) {
 *   leg.write(frame.samples!); // echo what the caller says back to them
 * }
 * console.log(leg.stats.lateDropped);
 * ```
 */
export class AudioBridge implements AsyncIterable<BridgeFrame>, AsyncDisposable {
  /** The call id. */
  readonly sid: Sid;
  /** `"server"` for {@linkcode attach}, `"caller"` for {@linkcode attachCaller}. */
  readonly role: "server" | "caller";
  /** The format the application reads and writes. */
  readonly format: BridgeFormat;
  /** The track this side publishes. */
  readonly published: BridgeTrack;
  /**
   * Resolves with the peer's track once it is subscribed: at once for {@linkcode attach};
   * for {@linkcode attachCaller}, when the server side publishes the downlink. Rejects when
   * the bridge closes first or the track carries no voice codec.
   */
  readonly receiving: Promise<BridgeTrack>;
  #received: BridgeTrack | undefined;
  readonly #sender: FrameSender;
  readonly #receiver: Promise<FrameReceiver>;
  #receiverNow: FrameReceiver | undefined;
  readonly #abort: AbortController;
  #closed = false;

  /** @internal Use {@linkcode attach} or {@linkcode attachCaller}. */
  constructor(init: {
    sid: Sid;
    role: "server" | "caller";
    format: BridgeFormat;
    published: BridgeTrack;
    sender: FrameSender;
    receiver: Promise<{ receiver: FrameReceiver; track: BridgeTrack }>;
    abort: AbortController;
  }) {
    this.sid = init.sid;
    this.role = init.role;
    this.format = init.format;
    this.published = init.published;
    this.#sender = init.sender;
    this.#abort = init.abort;
    this.#receiver = init.receiver.then(({ receiver }) => {
      if (this.#closed) receiver.close();
      this.#receiverNow = receiver;
      return receiver;
    });
    this.receiving = init.receiver.then(({ track }) => this.#received = track);
    // Failures surface through read() and `receiving`; neither may go unhandled meanwhile.
    this.#receiver.catch(() => {}); // observed through closed and the read/write paths
    this.receiving.catch(() => {}); // callers that await receiving see the rejection; unobserved it is not an error
  }

  /** The peer's track once subscribed (see {@linkcode receiving}), else `undefined`. */
  get received(): BridgeTrack | undefined {
    return this.#received;
  }

  /** Counters; see {@linkcode BridgeStats}. */
  get stats(): BridgeStats {
    return { ...(this.#receiverNow?.stats ?? EMPTY_RECEIVER_STATS), ...this.#sender.stats };
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one frame in the attached format: encoded bytes, or samples (`Int16Array`) for
   * `pcm16`. `timestamp` is its capture time in µs since the Unix epoch [continues from
   * the previous frame, or now]. A frame of the wrong size is concealed and counted in
   * `stats.writeErrors`. Returns false once the bridge is closed.
   *
   * @throws {TypeError} for samples on a non-PCM bridge, a value that is not a frame, or a
   * timestamp that is not a finite number.
   */
  write(frame: Uint8Array | Int16Array, timestamp?: number): boolean {
    return this.#sender.write(frame, timestamp);
  }

  /**
   * The next received frame, waiting for one; `undefined` once the peer's track ended or
   * the bridge closed. Rejects when the peer's track could not be subscribed.
   */
  async read(): Promise<BridgeFrame | undefined> {
    const receiver = this.#receiverNow ?? await this.#receiver.catch((error) => {
      if (this.#closed) return undefined;
      throw error;
    });
    return await receiver?.read();
  }

  /** Iterates received frames until the peer's track ends or the bridge closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<BridgeFrame> {
    for (let frame; (frame = await this.read());) yield frame;
  }

  /** Ends the published track and unsubscribes from the peer's. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new TrackError("closed", "The bridge is closed"));
    this.#receiverNow?.close();
    this.#sender.close();
  }

  /** Same as {@linkcode close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

const EMPTY_RECEIVER_STATS: ReceiverStats = {
  received: 0,
  played: 0,
  lateDropped: 0,
  concealed: 0,
  skipped: 0,
  duplicates: 0,
  delivered: 0,
  transcodeErrors: 0,
};

/**
 * Attaches to a call as the server side: subscribes `voice/<sid>/uplink` (what the caller
 * says) and publishes `voice/<sid>/downlink` (what they hear), by default in the codec the
 * uplink carries. Received frames are transcoded to the asked format; written frames from
 * it. Runs over a {@linkcode MoqClient} or, in a plugin, over its `PluginContext`.
 *
 * @throws {RangeError} for an unknown codec, rate, channel count, frame duration or a bad
 * `maxLatencyMs` (before any network work).
 * @throws {TypeError} for a malformed sid.
 * @throws {CodecError} (`"unsupported"`) when the uplink's capability names no voice codec.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { attach, attachCaller } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 *
 * const origin = new Origin(); // in a plugin: its PluginContext
 * await using phone = await attachCaller(origin, { sid: "CA1", codec: "g711_ulaw" });
 * await using agent = await attach(origin, { sid: "CA1", codec: "pcm16", sampleRate: 16000 });
 * phone.write(new Uint8Array(160).fill(0xff)); // 20 ms of µ-law silence
 * const heard = await agent.read();
 * assertEquals(heard?.samples?.length, 320); // 20 ms at 16 kHz
 * ```
 */
export function attach(via: BridgeVia, options: AttachOptions): Promise<AudioBridge> {
  return open("server", via, options);
}

/**
 * Attaches to a call as the caller: publishes `voice/<sid>/uplink` in the asked codec (or
 * `publishCodec`) and subscribes `voice/<sid>/downlink`, transcoded to the asked format.
 * The mirror image of {@linkcode attach}; same options and errors.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { attach, attachCaller } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 *
 * const origin = new Origin();
 * await using phone = await attachCaller(origin, { sid: "CA2", codec: "g711_ulaw" });
 * await using server = await attach(origin, { sid: "CA2", codec: "g711_ulaw" });
 * assertEquals(phone.published.capability, "voice/g711_ulaw");
 * assertEquals(server.published.capability, "voice/g711_ulaw");
 * ```
 */
export function attachCaller(via: BridgeVia, options: AttachOptions): Promise<AudioBridge> {
  return open("caller", via, options);
}

/**
 * Both attach functions bound to one connection: the shape the SDK exposes as
 * `voice.bridge`.
 *
 * @example
 * ```ts
 * import { createBridge } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 * const bridge = createBridge(new Origin());
 * await using phone = await bridge.attachCaller({ sid: "CA3", codec: "g711_alaw" });
 * ```
 */
export interface Bridge {
  /** {@linkcode attach} over the bound connection. */
  attach(options: AttachOptions): Promise<AudioBridge>;
  /** {@linkcode attachCaller} over the bound connection. */
  attachCaller(options: AttachOptions): Promise<AudioBridge>;
}

/**
 * Binds {@linkcode attach} and {@linkcode attachCaller} to a connection.
 *
 * @throws {TypeError} when `via` is neither a connection nor an in-process track host.
 *
 * @example
 * ```ts
 * import { createBridge } from "@clutchcall/voice/bridge";
 * import { Origin } from "@clutchcall/voice/relay";
 * const bridge = createBridge(new Origin());
 * ```
 */
export function createBridge(via: BridgeVia): Bridge {
  bridgeConnectionOf(via);
  return {
    attach: (options) => attach(via, options),
    attachCaller: (options) => attachCaller(via, options),
  };
}

async function open(
  role: "server" | "caller",
  via: BridgeVia,
  options: AttachOptions,
): Promise<AudioBridge> {
  // Everything checkable is checked before the network is touched.
  const format = resolveBridgeFormat(options);
  const sid = parseSid(options.sid);
  const { publishCodec, maxLatencyMs = 200, opus } = options;
  if (publishCodec !== undefined && !isCodec(publishCodec)) {
    throw new RangeError(`Cannot attach: unknown publish codec "${String(publishCodec)}"`);
  }
  if (!(Number.isFinite(maxLatencyMs) && maxLatencyMs >= 20)) {
    throw new RangeError(`Cannot attach: maxLatencyMs must be at least 20, got ${maxLatencyMs}`);
  }
  const connection = bridgeConnectionOf(via);
  const namespace = callNamespace(sid);
  const [ownName, peerName]: [VoiceDirection, VoiceDirection] = role === "server"
    ? ["downlink", "uplink"]
    : ["uplink", "downlink"];
  const abort = new AbortController();

  const receive = async (consumer: TrackConsumer) => {
    try {
      const capability = consumer.info.capability;
      const track = trackFormatOf(capability);
      if (!track) {
        throw new CodecError(
          "unsupported",
          `Cannot attach: track "voice/${sid}/${peerName}" carries "${capability}", not a voice codec`,
        );
      }
      const receiver = await FrameReceiver.create(consumer, {
        track,
        output: format,
        maxLatencyMs,
        opus,
      });
      return { receiver, track: { name: peerName, capability: capability!, format: track } };
    } catch (error) {
      consumer.close();
      throw error;
    }
  };

  let producer: TrackProducer | undefined;
  let receiving: Promise<{ receiver: FrameReceiver; track: BridgeTrack }> | undefined;
  try {
    if (role === "server") {
      // The leg's codec comes from the uplink: learn it before publishing the downlink.
      receiving = Promise.resolve(await receive(await connection.subscribe(namespace, peerName)));
    }
    const peer = receiving && (await receiving).track;
    const ownCapability = capabilityOf(publishCodec ?? peer?.format.codec ?? format.codec);
    producer = await connection.publish({ namespace, name: ownName, capability: ownCapability });
    const ownFormat = trackFormatOf(ownCapability)!;
    const sender = await FrameSender.create(producer, format, ownFormat, opus);
    // A caller talks before anyone answers: its downlink is subscribed in the background.
    receiving ??= subscribeWhenPublished(connection, namespace, peerName, abort.signal)
      .then(receive);
    return new AudioBridge({
      sid,
      role,
      format,
      published: { name: ownName, capability: ownCapability, format: ownFormat },
      sender,
      receiver: receiving,
      abort,
    });
  } catch (error) {
    receiving?.then(({ receiver }) => receiver.close(), () => {});
    producer?.close();
    throw error;
  }
}

/** Pause between subscribe attempts while the track is not published yet, ms. */
const RESUBSCRIBE_DELAY_MS = 100;

/** Subscribes, retrying while the relay answers "not found", until `signal` aborts. */
async function subscribeWhenPublished(
  connection: BridgeConnection,
  namespace: readonly string[],
  name: string,
  signal: AbortSignal,
): Promise<TrackConsumer> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const consumer = await connection.subscribe(namespace, name, { signal });
      if (signal.aborted) {
        consumer.close();
        signal.throwIfAborted();
      }
      return consumer;
    } catch (error) {
      if (!(error instanceof TrackError && error.reason === "not_found")) throw error;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, RESUBSCRIBE_DELAY_MS);
      signal.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}
