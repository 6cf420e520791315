/**
 * Real-time pacing and frame collection for the bridge tests.
 *
 * @module
 */
import type { AudioBridge, BridgeFrame } from "../../src/bridge/mod.ts";
import { nowMicros } from "../../src/voice/track.ts";

/** Calls `send(i, captureMicros)` for i = 0…count−1, one every `frameMs / speed` ms, drift-corrected. */
export async function paced(
  count: number,
  frameMs: number,
  send: (index: number, captureMicros: number) => void,
  { speed = 1 }: { speed?: number } = {},
): Promise<void> {
  const start = performance.now();
  const startMicros = nowMicros();
  for (let i = 0; i < count; i++) {
    const due = start + i * frameMs / speed;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    send(i, startMicros + Math.round(i * frameMs * 1000 / speed));
  }
}

/** Reads frames until `count` arrived, the track ended, or `timeoutMs` passed. */
export async function collect(
  bridge: AudioBridge,
  count: number,
  timeoutMs: number,
): Promise<BridgeFrame[]> {
  const frames: BridgeFrame[] = [];
  const deadline = Date.now() + timeoutMs;
  while (frames.length < count) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = await Promise.race([
      bridge.read(),
      new Promise<undefined>((r) =>
        timer = setTimeout(() => r(undefined), Math.max(0, deadline - Date.now()))
      ),
    ]);
    clearTimeout(timer);
    if (!frame) break;
    frames.push(frame);
  }
  return frames;
}
