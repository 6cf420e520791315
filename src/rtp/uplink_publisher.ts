/**
 * The uplink half of an RTP leg: received RTP audio → objects on `voice/<sid>/uplink`, in
 * the negotiated codec (no transcoding). G.711 is reframed to 20 ms whatever the far end's
 * ptime; Opus packets pass as they are. Each object carries its capture time: the arrival
 * time mapped through the RTP timestamp (so network jitter does not show in the times).
 *
 * @module
 */
import type { GroupProducer, TrackProducer } from "../relay/model/mod.ts";
import { FRAMES_PER_GROUP } from "../voice/track.ts";
import type { RtpAudioFormat } from "./payload_types.ts";
import type { RtpAudioFrame } from "./session.ts";

/** G.711 bytes per 20 ms frame at 8 kHz. */
export const G711_FRAME_BYTES = 160;

/** A mapping that lags arrivals by more than this is stale (clock drift, a jump): re-anchor. */
const MAX_LAG_US = 1_000_000;

/** @internal Publishes one leg's uplink. */
export class UplinkPublisher {
  readonly #track: TrackProducer;
  readonly #format: RtpAudioFormat;
  readonly #onFrame: ((payload: Uint8Array, at: number) => void) | undefined;
  readonly #silence: number;
  #group: GroupProducer | undefined;
  #objects = 0;
  // Capture-time anchor: the packet with the least transit delay seen so far.
  #anchorSsrc = -1;
  #anchorTs = 0;
  #anchorUs = 0;
  // G.711 reframing.
  #pending: Uint8Array | undefined;
  #fill = 0;
  #pendingTs = 0;
  #closed = false;

  /** `onFrame` sees every published frame (for VAD). */
  constructor(
    track: TrackProducer,
    format: RtpAudioFormat,
    onFrame?: (payload: Uint8Array, at: number) => void,
  ) {
    this.#track = track;
    this.#format = format;
    this.#onFrame = onFrame;
    this.#silence = format.codec === "g711_alaw" ? 0xd5 : 0xff;
  }

  /** Objects published. */
  get published(): number {
    return this.#objects;
  }

  /** One in-order RTP audio packet. */
  push(frame: RtpAudioFrame): void {
    if (this.#closed) return;
    this.#anchor(frame);
    const payload = frame.payload;
    if (this.#format.codec === "opus") {
      if (payload.length > 0) this.#publish(payload, this.#captureTime(frame.timestamp));
      return;
    }
    if (this.#fill > 0 && frame.timestamp !== ((this.#pendingTs + this.#fill) >>> 0)) {
      this.#flushPartial();
    }
    if (this.#fill === 0 && payload.length === G711_FRAME_BYTES) {
      this.#publish(payload, this.#captureTime(frame.timestamp));
      return;
    }
    let offset = 0;
    while (offset < payload.length) {
      if (this.#fill === 0) this.#pendingTs = (frame.timestamp + offset) >>> 0;
      this.#pending ??= new Uint8Array(G711_FRAME_BYTES);
      const take = Math.min(G711_FRAME_BYTES - this.#fill, payload.length - offset);
      this.#pending.set(payload.subarray(offset, offset + take), this.#fill);
      this.#fill += take;
      offset += take;
      if (this.#fill === G711_FRAME_BYTES) {
        const out = this.#pending;
        this.#pending = undefined;
        this.#fill = 0;
        this.#publish(out, this.#captureTime(this.#pendingTs));
      }
    }
  }

  /** Ends the uplink track (a partial frame is padded with silence). Twice is a no-op. */
  close(): void {
    if (this.#closed) return;
    if (this.#fill > 0) this.#flushPartial();
    this.#closed = true;
    this.#group?.close();
    this.#track.close();
  }

  #flushPartial(): void {
    const out = this.#pending!;
    out.fill(this.#silence, this.#fill);
    this.#pending = undefined;
    this.#fill = 0;
    this.#publish(out, this.#captureTime(this.#pendingTs));
  }

  #anchor(frame: RtpAudioFrame): void {
    if (frame.ssrc !== this.#anchorSsrc) {
      this.#anchorSsrc = frame.ssrc;
      this.#setAnchor(frame);
      return;
    }
    const mapped = this.#captureTime(frame.timestamp);
    if (mapped > frame.arrival || mapped < frame.arrival - MAX_LAG_US) this.#setAnchor(frame);
  }

  #setAnchor(frame: RtpAudioFrame): void {
    this.#anchorTs = frame.timestamp;
    this.#anchorUs = frame.arrival;
  }

  #captureTime(timestamp: number): number {
    const delta = (timestamp - this.#anchorTs) | 0;
    return this.#anchorUs + (delta / this.#format.clockRate) * 1e6;
  }

  #publish(payload: Uint8Array, at: number): void {
    const seq = this.#objects++;
    const id = seq % FRAMES_PER_GROUP;
    if (id === 0) {
      this.#group?.close();
      this.#group = this.#track.appendGroup(Math.floor(seq / FRAMES_PER_GROUP));
    }
    this.#group!.write({ id, payload, timestamp: Math.round(at) });
    this.#onFrame?.(payload, at);
  }
}
