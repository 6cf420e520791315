/**
 * Ogg Opus (RFC 7845) muxing of Opus packets exactly as they arrived, no transcoding:
 * OpusHead and OpusTags header pages, granule positions at 48 kHz from each packet's TOC
 * (RFC 6716 §3.1), gaps filled with TOC-only packets (a zero-length frame, which every
 * decoder conceals), pages cut on demand so a recorder can flush them every second.
 *
 * @module
 */
import { opusPacketSamples } from "../../codecs/opus_packet.ts";
import { concatBytes, encodeOggPage, OggFlag, oggSegmentsOf } from "./ogg.ts";

// The TOC parser lives in the codec layer (one copy for RTP timestamps and Ogg granules).
export { opusPacketSamples } from "../../codecs/opus_packet.ts";

/**
 * Options of an {@linkcode OggOpusStream}.
 *
 * @example
 * ```ts
 * import { OggOpusStream, type OggOpusStreamOptions } from "./ogg_opus.ts";
 * const options: OggOpusStreamOptions = { serial: 1, channels: 1, tags: { SID: "CA1" } };
 * const stream = new OggOpusStream(options);
 * ```
 */
export interface OggOpusStreamOptions {
  /** Bitstream serial number (default: random). */
  readonly serial?: number;
  /** Channel count for OpusHead (default 1). */
  readonly channels?: 1 | 2;
  /** User comments for OpusTags, `KEY=value`. */
  readonly tags?: Readonly<Record<string, string>>;
}

const VENDOR = "ClutchCall Voice recorder";

/**
 * Turns Opus packets into Ogg pages. Pre-skip is 0: the encoder's lookahead is unknown to
 * a recorder that never saw the encoder, and 0 keeps the file aligned with the capture
 * timestamps at the cost of a few ms of leading transient.
 *
 * @example
 * ```ts
 * import { OggOpusStream } from "./ogg_opus.ts";
 * const stream = new OggOpusStream({ serial: 1 });
 * const head = stream.headers();
 * stream.push(new Uint8Array([0xf8, 0xff, 0xfe]));
 * const pages = stream.takePages();
 * const tail = stream.end();
 * const file = new Uint8Array([...head, ...pages, ...tail]);
 * ```
 */
export class OggOpusStream {
  readonly #serial: number;
  readonly #channels: number;
  readonly #tags: Readonly<Record<string, string>>;
  #sequence = 0;
  #granule = 0n;
  #pending: Uint8Array[] = [];
  #pendingSamples = 0;
  #lastToc = 0xf8;
  #ended = false;

  /** Creates a stream with no packets. */
  constructor({ serial, channels = 1, tags = {} }: OggOpusStreamOptions = {}) {
    this.#serial = serial ?? crypto.getRandomValues(new Uint32Array(1))[0];
    this.#channels = channels;
    this.#tags = tags;
  }

  /** Granule position (48 kHz samples) of everything pushed so far. */
  get samples(): bigint {
    return this.#granule + BigInt(this.#pendingSamples);
  }

  /** The two header pages: OpusHead (beginning of stream) and OpusTags. */
  headers(): Uint8Array {
    const head = new Uint8Array(19);
    const view = new DataView(head.buffer);
    head.set(new TextEncoder().encode("OpusHead"));
    head[8] = 1; // version
    head[9] = this.#channels;
    view.setUint16(10, 0, true); // pre-skip
    view.setUint32(12, 48000, true); // input sample rate (informational)
    view.setInt16(16, 0, true); // output gain
    head[18] = 0; // channel mapping family 0
    const encoder = new TextEncoder();
    const vendor = encoder.encode(VENDOR);
    const comments = Object.entries(this.#tags).map(([k, v]) => encoder.encode(`${k}=${v}`));
    const tags = new Uint8Array(
      8 + 4 + vendor.length + 4 + comments.reduce((n, c) => n + 4 + c.length, 0),
    );
    const tagView = new DataView(tags.buffer);
    tags.set(encoder.encode("OpusTags"));
    tagView.setUint32(8, vendor.length, true);
    tags.set(vendor, 12);
    let at = 12 + vendor.length;
    tagView.setUint32(at, comments.length, true);
    at += 4;
    for (const comment of comments) {
      tagView.setUint32(at, comment.length, true);
      tags.set(comment, at + 4);
      at += 4 + comment.length;
    }
    return concatBytes([
      this.#page(OggFlag.BOS, 0n, [head]),
      this.#page(0, 0n, [tags]),
    ]);
  }

  /**
   * Queues one packet. Returns false (and drops it) when its TOC is malformed.
   */
  push(packet: Uint8Array): boolean {
    const samples = opusPacketSamples(packet);
    if (samples === undefined || this.#ended) return false;
    this.#pending.push(packet);
    this.#pendingSamples += samples;
    this.#lastToc = packet[0];
    return true;
  }

  /**
   * Queues TOC-only packets (zero-length frames, concealed by decoders) covering at least
   * `samples` 48 kHz samples; returns how many samples were added.
   */
  pushGap(samples: number): number {
    // One frame of the last packet's config (code 0) lasts its frame size.
    const oneFrame = this.#lastToc & 0xfc;
    const toc = opusPacketSamples(Uint8Array.of(oneFrame)) === 960
      ? oneFrame
      : 0xf8 | (this.#lastToc & 4);
    let added = 0;
    while (added < samples) {
      this.#pending.push(new Uint8Array([toc]));
      this.#pendingSamples += 960;
      added += 960;
    }
    return added;
  }

  /** Pages for every queued packet (empty when nothing is queued); `flags` go on the last. */
  takePages(flags = 0): Uint8Array {
    const pages: Uint8Array[] = [];
    let batch: Uint8Array[] = [];
    let batchSamples = 0;
    let segments = 0;
    const emit = (pageFlags: number) => {
      this.#granule += BigInt(batchSamples);
      pages.push(this.#page(pageFlags, this.#granule, batch));
      batch = [];
      batchSamples = 0;
      segments = 0;
    };
    for (const packet of this.#pending) {
      const need = oggSegmentsOf(packet);
      if (segments + need > 255) emit(0);
      batch.push(packet);
      batchSamples += opusPacketSamples(packet)!;
      segments += need;
    }
    if (batch.length > 0 || flags & OggFlag.EOS) emit(flags);
    this.#pending = [];
    this.#pendingSamples = 0;
    return concatBytes(pages);
  }

  /** The remaining packets and an end-of-stream page. Later pushes are ignored. */
  end(): Uint8Array {
    if (this.#ended) return new Uint8Array(0);
    const pages = this.takePages(OggFlag.EOS);
    this.#ended = true;
    return pages;
  }

  #page(flags: number, granule: bigint, packets: Uint8Array[]): Uint8Array {
    return encodeOggPage({
      flags,
      granule,
      serial: this.#serial,
      sequence: this.#sequence++,
      packets,
    });
  }
}
