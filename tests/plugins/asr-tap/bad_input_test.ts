import { assert, assertEquals, assertGreater, assertMatch } from "@std/assert";
import type { AsrEvent, TranscriptEvent } from "../../../src/voice/transcript.ts";
import { readFixtureWav } from "../../_lib/fixtures.ts";
import {
  type FakeRecognizer,
  type FakeRecognizerOptions,
  startFakeRecognizer,
} from "./_recognizers.ts";
import { publishUlaw, startTapHost, type TapHost } from "./_host.ts";
import { ulawFrames } from "./_sipp.ts";
import { UTTERANCES } from "./_turns.ts";

const FRAMES = ulawFrames(readFixtureWav("turns-8k.wav").samples);
const asr = (events: readonly { type: string }[], sid?: string) =>
  events.filter((e): e is AsrEvent => e.type === "asr" && (!sid || (e as AsrEvent).sid === sid));
const finals = (events: readonly { type: string }[], sid?: string) =>
  events.filter((e): e is TranscriptEvent =>
    e.type === "transcript" && (e as TranscriptEvent).kind === "final" &&
    (!sid || (e as TranscriptEvent).sid === sid)
  );
const base = { endpointingMs: 700, hangoverMs: 900 };

/**
 * A fake `protocol` recognizer taking the key "k" (each connection `i` behaving as
 * `behaviour(i)` says) and a tap host streaming to it with `options` and `base`; disposing it
 * stops the tap, then the recognizer.
 */
async function tapToFake(
  protocol: "deepgram" | "assemblyai",
  options: Record<string, unknown>,
  behaviour?: FakeRecognizerOptions["behaviour"],
): Promise<{ fake: FakeRecognizer; tap: TapHost } & AsyncDisposable> {
  const fake = startFakeRecognizer({ protocol, key: "k", utterances: UTTERANCES, behaviour });
  let tap: TapHost;
  try {
    tap = await startTapHost({ provider: protocol, url: fake.url, ...options, ...base }, "k");
  } catch (error) {
    await fake[Symbol.asyncDispose]();
    throw error;
  }
  return {
    fake,
    tap,
    async [Symbol.asyncDispose]() {
      try {
        await tap[Symbol.asyncDispose]();
      } finally {
        await fake[Symbol.asyncDispose]();
      }
    },
  };
}

Deno.test("a wrong key (401 at the upgrade) fails the track at once with an event saying so: no reconnection storm, the plugin and the call's track go on", async () => {
  await using fake = startFakeRecognizer({
    protocol: "deepgram",
    key: "right",
    utterances: UTTERANCES,
  });
  await using tap = await startTapHost({ provider: "deepgram", url: fake.url, ...base }, "wrong");
  const publishing = publishUlaw(tap.origin, "CAkey", FRAMES.slice(0, 200));
  await tap.until((e) => asr(e).some((a) => a.state === "failed"), "failed");
  const failed = asr(tap.events).find((a) => a.state === "failed")!;
  assertEquals(failed.reason, "the recognizer refused the key (HTTP 401)");
  assertEquals([failed.sid, failed.track, failed.provider], ["CAkey", "uplink", "deepgram"]);
  await publishing; // the publisher never noticed
  assertEquals(fake.refused, 1);
  assertEquals(asr(tap.events).filter((a) => a.state === "reconnecting").length, 0);
  assertEquals(tap.host.status()[0].state, "running");
  assert(
    !tap.logs.some((l) => l.includes("right") || l.includes('"wrong"')),
    "the key is never logged",
  );
});

Deno.test("a recognizer that closes mid-call is reconnected with backoff; the audio in between is buffered and sent, the next utterance is transcribed on the call's timeline", async () => {
  await using scene = await tapToFake(
    "deepgram",
    { reconnectDelayMs: 50 },
    (i) => i === 0 ? "drop-after-first-final" : "normal",
  );
  const { fake, tap } = scene;
  await publishUlaw(tap.origin, "CAdrop", FRAMES);
  await tap.until((e) => finals(e).length >= 2, "two finals");
  assertEquals(fake.connections.length, 2);
  const states = asr(tap.events).map((a) => a.state);
  assertEquals(states.slice(0, 3), ["connected", "reconnecting", "connected"]);
  assertMatch(asr(tap.events)[1].reason!, /1011/);
  assertEquals(states.includes("gap"), false, "nothing was lost");
  const [first, second] = finals(tap.events);
  assertEquals([first.text, second.text], UTTERANCES);
  // The second connection's stream starts at 0 again; its result still lands near 8.0 s.
  assert(Math.abs(second.start - 8000) < 300, `second utterance at ${second.start} ms`);
});

Deno.test("when the reconnection buffer overflows, an asr gap event says which ms of the call were not transcribed", async () => {
  await using scene = await tapToFake(
    "deepgram",
    { reconnectDelayMs: 800, bufferMs: 200 },
    (i) => i === 0 ? "drop-after-first-final" : "normal",
  );
  const { tap } = scene;
  await publishUlaw(tap.origin, "CAgap", FRAMES, { paceMs: 20 });
  await tap.until((e) => asr(e).some((a) => a.state === "gap"), "gap");
  const gap = asr(tap.events).find((a) => a.state === "gap")!;
  assertEquals(gap.reason, "the buffer kept while reconnecting overflowed");
  assert(gap.start! >= finals(tap.events)[0].end && gap.end! > gap.start!, JSON.stringify(gap));
});

for (
  const [behaviour, what, reason] of [
    ["garbage", "garbage", /malformed messages in a row/],
    ["huge", "a 4 MiB frame", /4194304-byte message \(limit 1048576\)/],
  ] as const
) {
  Deno.test(`a recognizer sending ${what} is cut off with a reason, retried, then given up on; another call on a healthy connection is transcribed all along`, async () => {
    // The bad call connects first; its retries keep getting the bad behaviour.
    await using scene = await tapToFake(
      "deepgram",
      { maxReconnects: 1, reconnectDelayMs: 20 },
      (i) => i === 1 ? "normal" : behaviour,
    );
    const { fake, tap } = scene;
    const bad = publishUlaw(tap.origin, "CAbad", FRAMES);
    await fake.until(() => fake.connections.length >= 1, "the bad call's connection");
    const good = publishUlaw(tap.origin, "CAgood", FRAMES);
    await Promise.all([bad, good]);
    await tap.until((e) => asr(e, "CAbad").some((a) => a.state === "failed"), "bad call failed");
    await tap.until((e) => finals(e, "CAgood").length >= 2, "good call finals");
    const failed = asr(tap.events, "CAbad").find((a) => a.state === "failed")!;
    assertMatch(failed.reason!, reason);
    assertEquals(asr(tap.events, "CAgood").map((a) => a.state), ["connected"]);
    assertEquals(finals(tap.events, "CAbad").length, 0);
    assertEquals(tap.host.status()[0].state, "running");
  });
}

Deno.test("an unreachable recognizer: reconnecting events with the reason, then failed after maxReconnects, and no more attempts", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close(); // nothing listens there now
  await using tap = await startTapHost(
    {
      provider: "deepgram",
      url: `ws://127.0.0.1:${port}/v1/listen`,
      maxReconnects: 2,
      reconnectDelayMs: 20,
      ...base,
    },
    "k",
  );
  const publishing = publishUlaw(tap.origin, "CAnone", FRAMES.slice(0, 300));
  await tap.until((e) => asr(e).some((a) => a.state === "failed"), "failed");
  await publishing;
  const states = asr(tap.events).map((a) => a.state);
  assertEquals(states.slice(0, 3), ["reconnecting", "reconnecting", "failed"]);
  assertMatch(asr(tap.events)[2].reason!, /gave up after 3 attempts/);
  assertMatch(asr(tap.events)[0].reason!, /connect/);
  assertEquals(asr(tap.events).filter((a) => a.state === "reconnecting").length, 2);
});

Deno.test("a recognizer that accepts and then says nothing (no Begin) is timed out and retried", async () => {
  await using scene = await tapToFake(
    "assemblyai",
    { connectTimeoutMs: 300, reconnectDelayMs: 20 },
    (i) => i === 0 ? "silent" : "normal",
  );
  const { fake, tap } = scene;
  await publishUlaw(tap.origin, "CAsilent", FRAMES);
  await tap.until((e) => finals(e).length >= 2, "finals on the second connection");
  const reconnecting = asr(tap.events).find((a) => a.state === "reconnecting")!;
  assertEquals(reconnecting.reason, "no session within 300 ms");
  assertGreater(fake.connections.length, 1);
});

// "100 calls tapped at once" lives in memory_test.ts: three rounds of it, with a heap bound.

Deno.test("a track on hold (no audio for a while) gets a Finalize for what the recognizer holds, then KeepAlives until audio comes back", async () => {
  await using scene = await tapToFake("deepgram", { keepAliveMs: 200, gateSilence: false });
  const { fake, tap } = scene;
  const startMicros = Date.now() * 1000;
  const track = tap.origin.publishTrack({
    namespace: ["voice", "CAhold"],
    name: "uplink",
    capability: "voice/g711_ulaw",
  });
  // 3 s of speech, then nothing (hold) until the recognizer has been kept alive, then more.
  const speech = FRAMES.slice(75, 225);
  const send = (from: number, frames: readonly Uint8Array[]) => {
    const group = track.appendGroup();
    frames.forEach((payload, i) =>
      group.write({ id: i, payload, timestamp: startMicros + (from + i) * 20_000 })
    );
    group.close();
  };
  for (let k = 0; k < speech.length; k += 10) send(k, speech.slice(k, k + 10));
  const conn = () => fake.connections[0];
  const afterAudio = () => {
    const received = conn()?.received ?? [];
    const lastAudio = received.findLastIndex((r) => r.kind === "audio");
    return lastAudio < 0
      ? []
      : received.slice(lastAudio + 1).flatMap((r) =>
        r.kind === "text" ? [String(r.message.type)] : []
      );
  };
  // After the audio stopped: keep-alives, a Finalize once the hold lasted, keep-alives again.
  await fake.until(() => {
    const texts = afterAudio();
    const f = texts.indexOf("Finalize");
    return f > 0 && texts.slice(f + 1).includes("KeepAlive");
  }, "Finalize then keep-alives on hold");
  assertEquals(afterAudio().filter((t) => t === "Finalize").length, 1);
  send(400, speech.slice(0, 10)); // back from hold
  await fake.until(() => conn().received.at(-1)?.kind === "audio", "audio after hold");
  track.close();
  await fake.until(() => conn().closedNow, "closed");
  assertEquals(conn().texts("CloseStream").length, 1);
});
