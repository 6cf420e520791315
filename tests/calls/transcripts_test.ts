import { assertEquals } from "@std/assert";
import { TranscriptLog } from "../../src/calls/transcripts.ts";
import type { TranscriptEvent } from "../../src/voice/transcript.ts";

const final = (sid: string, text: string, kind: TranscriptEvent["kind"] = "final") => ({
  type: "transcript" as const,
  sid,
  at: "2026-01-01T00:00:00.000Z",
  track: "uplink" as const,
  kind,
  text,
  start: 10,
  end: 20,
});

Deno.test("the transcript log keeps finals in order, ignores other kinds and empty text", () => {
  const log = new TranscriptLog();
  log.add(final("CA1", "hello"));
  log.add(final("CA1", "partial words", "partial"));
  log.add(final("CA1", ""));
  log.add(final("CA1", "world"));
  assertEquals(log.get("CA1").finals.map((f) => f.text), ["hello", "world"]);
  assertEquals(log.get("CA2"), { sid: "CA2", finals: [], truncated: false });
});

Deno.test("the transcript log is bounded: entries and text per call, and calls (the oldest goes)", () => {
  const log = new TranscriptLog({ maxCalls: 2, maxEntries: 3, maxChars: 12 });
  for (let i = 0; i < 5; i++) log.add(final("CA1", `w${i}`));
  assertEquals(log.get("CA1").finals.map((f) => f.text), ["w2", "w3", "w4"]);
  assertEquals(log.get("CA1").truncated, true);
  log.add(final("CA2", "0123456789"));
  log.add(final("CA2", "abcdef"));
  assertEquals(log.get("CA2").finals.map((f) => f.text), ["abcdef"]);
  log.add(final("CA3", "x"));
  assertEquals(log.size, 2);
  assertEquals(log.get("CA1").finals, []);
});
