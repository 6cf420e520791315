/**
 * Offline text-to-speech off the event loop: espeak-ng (WASM, `npm:espeak-ng`) and the
 * resampling run in a Worker per request, so a long sentence never stalls the server's
 * calls (each speech takes hundreds of milliseconds of CPU; on the event loop it held every
 * call's downlink for as long). At most {@linkcode MAX_TTS_WORKERS} syntheses run at once;
 * more wait their turn.
 *
 * @module
 */
import type { SpeakReply, SpeakRequest } from "./tts_worker.ts";
import { checkText, MAX_TEXT_CHARS, type SpeakOptions } from "./tts_synth.ts";

export { MAX_TEXT_CHARS, type SpeakOptions };

/** Syntheses running at once (each in its own Worker); later requests queue. */
export const MAX_TTS_WORKERS = 2;

const WORKER_URL = new URL("./tts_worker.ts", import.meta.url);

let running = 0;
const waiting: Array<() => void> = [];

/** Workers alive now (a leak check for tests: 0 once every speech settled). */
export function ttsWorkers(): number {
  return running;
}

/**
 * Speaks `text`; resolves with mono PCM16 at `sampleRate`. The synthesis runs in a Worker
 * (terminated once it answers, or when `signal` aborts), never on the caller's event loop.
 *
 * @throws {RangeError} for text longer than {@linkcode MAX_TEXT_CHARS}.
 * @throws {Error} when espeak-ng fails (an unknown voice), or `signal`'s reason on abort.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { speak } from "./tts.ts";
 * const pcm = await speak("Hello", { sampleRate: 8000 });
 * assertEquals(pcm.length > 1600, true); // more than 0.2 s of speech
 * ```
 */
export async function speak(
  text: string,
  options: SpeakOptions = {},
  signal?: AbortSignal,
): Promise<Int16Array> {
  checkText(text);
  signal?.throwIfAborted();
  while (running >= MAX_TTS_WORKERS) {
    await new Promise<void>((resolve) => waiting.push(resolve));
    signal?.throwIfAborted();
  }
  running++;
  try {
    return await inWorker({ text, options }, signal);
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function inWorker(request: SpeakRequest, signal?: AbortSignal): Promise<Int16Array> {
  const worker = new Worker(WORKER_URL, { type: "module" });
  const { promise, resolve, reject } = Promise.withResolvers<Int16Array>();
  const onAbort = () => reject(signal!.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  worker.onmessage = (event: MessageEvent<SpeakReply>) => {
    const reply = event.data;
    if (reply.ok) resolve(reply.pcm);
    else reject(reply.range ? new RangeError(reply.message) : new Error(reply.message));
  };
  worker.onerror = (event) => {
    // Handled here (a worker's uncaught error would otherwise reach this thread's global
    // scope): the speech fails, the server goes on.
    event.preventDefault();
    reject(new Error(`Cannot speak: the TTS worker failed: ${event.message}`));
  };
  worker.postMessage(request);
  return promise.finally(() => {
    signal?.removeEventListener("abort", onAbort);
    worker.terminate();
  });
}
