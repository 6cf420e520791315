import { assert, assertEquals } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { haveChromium, launchChromium, openPage } from "./_browser.ts";

Deno.test("captureMicrophone in Chromium: chunks missing from the microphone's stream leave a gap in the frames' capture times, not a drift (the encoder stamps by sample count)", async () => {
  if (!haveChromium()) return;
  await using fx = await startServer();
  await using browser = await launchChromium();
  const page = await openPage(browser, `${fx.url}/calls?token=${encodeURIComponent(fx.token)}`);
  try {
    // A generated track stands in for a microphone that lost 700 ms of chunks (what Chromium's
    // capture path does when the page or the machine is too busy): 1 s of a tone, a 700 ms
    // jump in the chunks' timestamps, 1 s more. The real WebCodecs Opus encoder encodes it.
    const steps = await page.evaluate(async () => {
      const sdk = await import("/sdk/browser.js" as string);
      const g = globalThis as unknown as Record<string, new (...args: unknown[]) => unknown>;
      const generator = new g.MediaStreamTrackGenerator({ kind: "audio" }) as {
        writable: WritableStream<unknown>;
      };
      const capture = new sdk.MicrophoneCapture(generator, 32000, false);
      const stamps: number[] = [];
      const all = new Promise<void>((resolve) =>
        capture.onFrame((frame: { captureUs: number }) => {
          stamps.push(frame.captureUs);
          if (stamps.length >= 145) resolve();
        })
      );
      const writer = generator.writable.getWriter();
      const rate = 48_000;
      // Written at the pace of a real microphone (its chunks are timestamped on the wall
      // clock, as Chromium's are); the 70 chunks of the gap are never written.
      const startMs = performance.now();
      const originUs = Math.round((performance.timeOrigin + startMs) * 1000);
      for (let i = 0; i < 300; i++) {
        const slot = i < 150 ? i : i + 70;
        const dueMs = startMs + slot * 10;
        const waitMs = dueMs - performance.now();
        if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
        const data = new Float32Array(480);
        for (let n = 0; n < 480; n++) {
          data[n] = 0.3 * Math.sin(2 * Math.PI * 440 * (i * 480 + n) / rate);
        }
        await writer.write(
          new g.AudioData({
            format: "f32-planar",
            sampleRate: rate,
            numberOfFrames: 480,
            numberOfChannels: 1,
            timestamp: originUs + slot * 10_000,
            data,
          }),
        );
      }
      const done = await Promise.race([
        all.then(() => "all"),
        new Promise((resolve) => setTimeout(() => resolve("short"), 10_000)),
      ]);
      if (done !== "all") throw new Error(`Only ${stamps.length} frames were encoded`);
      await capture.close();
      const steps: number[] = [];
      for (let i = 1; i < stamps.length; i++) {
        steps.push(Math.round((stamps[i] - stamps[i - 1]) / 1000));
      }
      return steps;
    });
    // After the first second (the capture clock is calibrated against the wall clock over the
    // first 100 chunks), frames follow each other by 20 ms, except one step of 20 + 700 ms at
    // the gap. The encoder's own timestamps would step by 20 ms there too.
    const gaps = steps.slice(55).filter((s) => s !== 20);
    console.log(`capture-time steps between frames: ${steps.length} steps, others: ${gaps}`);
    assertEquals(gaps, [720], `one 700 ms gap, every other step 20 ms: ${steps}`);
    assert(steps.length >= 140, `frames encoded: ${steps.length + 1}`);
  } catch (error) {
    console.error(page.logs.join("\n"));
    throw error;
  }
});
