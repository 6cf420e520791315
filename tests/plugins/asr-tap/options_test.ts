import { assertEquals, assertThrows } from "@std/assert";
import { parseAsrTapOptions } from "../../../src/plugins/asr-tap/options.ts";
import { StreamTimeline } from "../../../src/plugins/asr-tap/timeline.ts";
import { redact } from "../../../src/plugins/asr-tap/link.ts";

Deno.test("asr-tap options: defaults, and typed errors naming each bad option", () => {
  const o = parseAsrTapOptions({ provider: "deepgram" });
  assertEquals([o.tracks, o.language, o.match, o.interimResults], [
    ["uplink"],
    "en",
    "voice/*",
    true,
  ]);
  assertThrows(() => parseAsrTapOptions({}), TypeError, "provider");
  assertThrows(() => parseAsrTapOptions({ provider: "whisper" }), TypeError, "provider");
  assertThrows(() => parseAsrTapOptions({ provider: "openai", bogus: 1 }), TypeError, "bogus");
  assertThrows(
    () => parseAsrTapOptions({ provider: "deepgram", tracks: ["uplink", "uplink"] }),
    TypeError,
    "tracks",
  );
  // The key travels in the upgrade: plain ws:// only to this machine.
  assertThrows(
    () => parseAsrTapOptions({ provider: "deepgram", url: "ws://asr.example.com/v1/listen" }),
    TypeError,
    "url",
  );
  assertEquals(
    parseAsrTapOptions({ provider: "deepgram", url: "ws://127.0.0.1:9/v1/listen" }).url,
    "ws://127.0.0.1:9/v1/listen",
  );
  assertThrows(() => parseAsrTapOptions({ provider: "deepgram", apiKeyEnv: "A-B" }), TypeError);
});

Deno.test("a stream timeline maps recognizer times through left-out silence and gaps to call times", () => {
  const t = new StreamTimeline();
  for (let ms = 1200; ms < 2000; ms += 20) t.sent(ms, 20); // contiguous
  t.sent(7700, 100); // silence left out
  assertEquals([t.toCall(0), t.toCall(300), t.toCall(800), t.toCall(850)], [
    1200,
    1500,
    7700,
    7750,
  ]);
  assertEquals(t.streamMs, 900);
});

Deno.test("URLs are logged without credentials", () => {
  assertEquals(
    redact("wss://u:p@asr.example.com/ws?token=secret&sample_rate=8000"),
    "wss://asr.example.com/ws?token=%E2%80%A6&sample_rate=8000",
  );
});
