/**
 * Decodes a voice track's frames to float PCM in the page: Opus with WebCodecs'
 * `AudioDecoder`, G.711 and PCM16 with the project's own table codecs (tiny, synchronous).
 *
 * @module
 */
import { decodeAlaw, decodeUlaw } from "../codecs/g711.ts";
import { requireWebMedia } from "./web_media_types.ts";

/** Codecs a page can play. */
export type PlayableCodec = "opus" | "g711_ulaw" | "g711_alaw" | "pcm16";

/** The sample rate a codec's frames decode at. */
export function decodedRate(codec: PlayableCodec): number {
  return codec === "opus" ? 48000 : codec === "pcm16" ? 16000 : 8000;
}

/** The codec a voice capability names, or undefined when the page cannot play it. */
export function playableCodecOf(capability: string | undefined): PlayableCodec | undefined {
  const codec = capability?.startsWith("voice/") ? capability.slice(6) : undefined;
  return codec === "opus" || codec === "g711_ulaw" || codec === "g711_alaw" || codec === "pcm16"
    ? codec
    : undefined;
}

/** Turns encoded frames into PCM. */
export interface FrameDecoder {
  /** The rate of the PCM handed to `onPcm`. */
  readonly sampleRate: number;
  /** Decodes one frame; its PCM goes to `onPcm` (now or soon, in order). */
  decode(payload: Uint8Array, captureUs: number): void;
  /** Frees the decoder. A second close is a no-op. */
  close(): void;
}

/**
 * A decoder for `codec` handing mono float PCM with the frame's capture time to `onPcm`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createFrameDecoder } from "@clutchcall/voice/browser";
 * const lengths: number[] = [];
 * const decoder = createFrameDecoder("g711_ulaw", (pcm) => lengths.push(pcm.length));
 * decoder.decode(new Uint8Array(160).fill(0xff), 0);
 * decoder.close();
 * assertEquals(lengths, [160]); // 20 ms at 8 kHz
 * ```
 */
export function createFrameDecoder(
  codec: PlayableCodec,
  onPcm: (pcm: Float32Array, captureUs: number) => void,
  onError: (error: Error) => void = (error) => console.warn("Audio decoding failed", error),
): FrameDecoder {
  if (codec === "opus") return opusDecoder(onPcm, onError);
  const toInt16 = codec === "g711_ulaw"
    ? (b: Uint8Array) => decodeUlaw(b)
    : codec === "g711_alaw"
    ? (b: Uint8Array) => decodeAlaw(b)
    : (b: Uint8Array) => {
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const out = new Int16Array(b.byteLength >> 1);
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    };
  return {
    sampleRate: decodedRate(codec),
    decode(payload, captureUs) {
      const pcm = toInt16(payload);
      const out = new Float32Array(pcm.length);
      for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
      onPcm(out, captureUs);
    },
    close() {},
  };
}

function opusDecoder(
  onPcm: (pcm: Float32Array, captureUs: number) => void,
  onError: (error: Error) => void,
): FrameDecoder {
  let closed = false;
  const { AudioDecoder, EncodedAudioChunk } = requireWebMedia(
    "decode Opus",
    "AudioDecoder",
    "EncodedAudioChunk",
  );
  const decoder = new AudioDecoder({
    output(data) {
      const pcm = new Float32Array(data.numberOfFrames);
      data.copyTo(pcm, { planeIndex: 0, format: "f32-planar" });
      const at = data.timestamp;
      data.close();
      if (!closed) onPcm(pcm, at);
    },
    error: (error) => {
      if (!closed) onError(error instanceof Error ? error : new Error(String(error)));
    },
  });
  decoder.configure({ codec: "opus", sampleRate: 48000, numberOfChannels: 1 });
  return {
    sampleRate: 48000,
    decode(payload, captureUs) {
      if (closed || decoder.state !== "configured") return;
      decoder.decode(
        new EncodedAudioChunk({
          type: "key",
          timestamp: captureUs,
          data: payload,
        }),
      );
    },
    close() {
      if (closed) return;
      closed = true;
      if (decoder.state !== "closed") decoder.close();
    },
  };
}
