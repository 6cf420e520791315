import { assert, assertEquals, assertGreater } from "@std/assert";
import { decodeUlaw } from "../../../src/codecs/g711.ts";
import { bestLagCorrelation } from "../../_lib/correlate.ts";
import { readFixtureWav } from "../../_lib/fixtures.ts";
import { callerArgs, haveSipp, sipp } from "../../sip/_harness.ts";
import { segmentSpeech, startFakeRecognizer } from "./_recognizers.ts";
import { startAsrServer } from "./_server.ts";
import { rtpPcap, uacScenario, ulawFrames } from "./_sipp.ts";
import { ENDPOINT_MS, UTTERANCES } from "./_turns.ts";

Deno.test({
  name:
    "asr-tap streams a sipp caller's G.711 µ-law to a Deepgram-style recognizer untranscoded (encoding=mulaw, 8 kHz, the caller's own bytes) and its finals reach the call",
  ignore: !haveSipp(),
  fn: async () => {
    await using fake = startFakeRecognizer({
      protocol: "deepgram",
      key: "k8",
      utterances: UTTERANCES,
    });
    await using fx = await startAsrServer(
      {
        provider: "deepgram",
        url: fake.url,
        apiKeyEnv: "ASR_TEST_SIP_KEY",
        endpointingMs: ENDPOINT_MS,
        hangoverMs: 900,
      },
      {
        env: { ASR_TEST_SIP_KEY: "k8" },
        sip: {
          // Port 0: the server binds one itself (a port probed free here could be taken by a
          // test beside this one before the server binds it); fx.server.sipPort says which.
          listen: { host: "127.0.0.1", port: 0 },
          publicAddress: "127.0.0.1",
          trunks: [{
            name: "loop",
            address: "127.0.0.1:5999",
            allowFrom: ["127.0.0.1"],
            outboundNumbers: ["+1"],
          }],
          inbound: [{ match: "*", action: { plugin: "asr-tap" } }],
        },
      },
    );
    const source = readFixtureWav("turns-8k.wav").samples;
    const frames = ulawFrames(source);
    const dir = await Deno.makeTempDir({ prefix: "clutchcall-asr-sipp-" });
    await Deno.writeFile(`${dir}/turns.pcap`, rtpPcap(frames));
    await Deno.writeTextFile(`${dir}/uac.xml`, uacScenario(`${dir}/turns.pcap`, 14_500));
    const result = await sipp(
      callerArgs(fx.server.sipPort!, ["-sf", `${dir}/uac.xml`]),
      60_000,
    );
    assertEquals(result.code, 0, result.stderr);
    await fake.until(() => fake.connections[0]?.closedNow === true, "the recognizer stream closed");

    const conn = fake.connections[0];
    const q = conn.url.searchParams;
    assertEquals([q.get("encoding"), q.get("sample_rate")], ["mulaw", "8000"]);
    // Untranscoded: the first speech run received is the caller's µ-law bytes, byte for byte.
    const audio = conn.received.flatMap((r) => r.kind === "audio" ? [r.bytes] : []);
    const sent = new Uint8Array(frames.length * 160);
    frames.forEach((f, i) => sent.set(f, i * 160));
    const head = audio.slice(0, 50).reduce(
      (a, b) => new Uint8Array([...a, ...b]),
      new Uint8Array(),
    );
    // Find where it sits in what sipp sent by its first loud bytes (silence is everywhere).
    const loud = head.findIndex((b) => (b & 0x7f) < 0x60);
    const at = indexOf(sent, head.subarray(loud, loud + 320)) - loud;
    assert(loud >= 0 && at >= 0, "the first received audio is not a run of the caller's bytes");
    assertEquals(head, sent.subarray(at, at + head.length));
    const received = decodeUlaw(
      audio.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
    );
    const r = bestLagCorrelation(
      source.subarray(1.5 * 8000, 6.5 * 8000),
      received.subarray(0, 7 * 8000),
      {
        minLag: 0,
        maxLag: 8000,
      },
    );
    assertGreater(r.r, 0.99, JSON.stringify(r));

    // The call's transcript: the inbound call's finals, on its timeline.
    const { calls } = await (await fx.fetch("/v1/calls?direction=inbound")).json();
    assertEquals(calls.length, 1);
    const body = await (await fx.fetch(`/v1/calls/${calls[0].sid}/transcript`)).json();
    const finals = body.finals as { text: string; start: number; end: number; track: string }[];
    assertEquals(finals.map((f) => f.text), UTTERANCES);
    assertEquals(finals.map((f) => f.track), ["uplink", "uplink"]);
    const expected = segmentSpeech(source, 8000, { endpointMs: ENDPOINT_MS });
    // A SIP leg's capture times are RTP timestamps anchored at arrival, re-anchored on the
    // earliest packet: the call's origin (its first frame) can sit late by that packet's
    // jitter, shifting every time alike. So: one shared offset, small, and exact spacing.
    const offset = finals[0].start - expected[0].start;
    assert(Math.abs(offset) <= 500, `origin offset ${offset} ms`);
    for (const [i, f] of finals.entries()) {
      assert(
        Math.abs(f.start - offset - expected[i].start) <= 80 &&
          Math.abs(f.end - offset - expected[i].end) <= 80,
        `final ${i}: ${f.start}–${f.end} ms, source ${expected[i].start}–${
          expected[i].end
        } ms, offset ${offset}`,
      );
    }
    await Deno.remove(dir, { recursive: true });
  },
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
