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

/**
 * The worker's global scope, as much of it as this file uses. Typed here rather than with
 * `/// <reference lib="deno.worker" />`, which `deno publish` refuses in a package module.
 */
interface WorkerScope {
  onmessage: ((event: MessageEvent<SpeakRequest>) => void) | null;
  postMessage(message: SpeakReply, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = async (event: MessageEvent<SpeakRequest>) => {
  const { text, options } = event.data;
  try {
    const pcm = await synthesize(text, options);
    scope.postMessage({ ok: true, pcm } satisfies SpeakReply, [pcm.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage(
      {
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        range: error instanceof RangeError,
      } satisfies SpeakReply,
    );
  }
};
