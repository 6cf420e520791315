/**
 * The Worker {@linkcode speak} (in `tts.ts`) runs each synthesis in: one request in, the
 * PCM (or the error's message) out, then the parent terminates it.
 *
 * ```text
 * parent → worker   { text, options }
 * worker → parent   { ok: true, pcm } (pcm's buffer transferred) | { ok: false, message, range }
 * ```
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type SpeakOptions, synthesize } from "./tts_synth.ts";

/** The request the parent posts. */
export interface SpeakRequest {
  readonly text: string;
  readonly options: SpeakOptions;
}

/** The worker's answer. */
export type SpeakReply =
  | { readonly ok: true; readonly pcm: Int16Array }
  | { readonly ok: false; readonly message: string; readonly range: boolean };

self.onmessage = async (event: MessageEvent<SpeakRequest>) => {
  const { text, options } = event.data;
  try {
    const pcm = await synthesize(text, options);
    self.postMessage({ ok: true, pcm } satisfies SpeakReply, [pcm.buffer as ArrayBuffer]);
  } catch (error) {
    self.postMessage(
      {
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        range: error instanceof RangeError,
      } satisfies SpeakReply,
    );
  }
};
