/**
 * What an Opus backend (native libopus, WASM) implements for the wrappers in `opus.ts`:
 * the small internal interfaces both backends and the wrappers share. Its own module so the
 * backends import it, never `opus.ts` (which imports the backends): no import cycle.
 *
 * @module
 */

/** A setting of the encoder, as its backends apply it. */
export type EncoderSetting =
  | "bitrate"
  | "complexity"
  | "inband_fec"
  | "packet_loss_perc"
  | "dtx"
  | "max_bandwidth"
  | "signal";

/** What a backend provides for an encoder; the wrapper validates before calling. @internal */
export interface EncoderCore {
  encode(pcm: Int16Array, frameSize: number): Uint8Array;
  set(setting: EncoderSetting, value: number): void;
  destroy(): void;
}

/** What a backend provides for a decoder. @internal */
export interface DecoderCore {
  readonly fecSupported: boolean;
  /** `packet === null`: conceal `frameSize`; `fec`: decode FEC of `packet` into `frameSize`. */
  decode(packet: Uint8Array | null, frameSize: number, fec: boolean): Int16Array;
  destroy(): void;
}

/** Longest frame a decoder may return: 120 ms at 48 kHz. @internal */
export const MAX_FRAME_SAMPLES = 5760;
