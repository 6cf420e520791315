import { assert, assertEquals } from "@std/assert";
import { AgentSession, mediaStreamsAdapter, type SessionReports } from "../../src/agents/mod.ts";
import { MAX_MESSAGE_BYTES } from "../../src/agents/media_streams.ts";
import { attachCaller } from "../../src/bridge/mod.ts";
import { encodeUlaw } from "../../src/codecs/g711.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Origin } from "../../src/relay/model/mod.ts";
import { nowMicros } from "../../src/voice/track.ts";
import { b64, startTwilioBot } from "./_twilio_bot.ts";
import { waitFor } from "../_lib/wait.ts";

/** The playout's queue bound (its default, 300 s) at 8 kHz, as bytes of PCM. */
const QUEUE_BYTES = 300 * 8000 * 2;

Deno.test("an agent session's memory is bounded: a bot sending 15 minutes of audio in 1 MiB messages fills the 5-minute queue, the rest is dropped and counted, and the session keeps ≤ the queue plus one message", async () => {
  // Each message: the largest a bot may send (base64 of ~786 KB of µ-law, 98 s).
  const chunk = b64(encodeUlaw(new Int16Array(Math.floor((MAX_MESSAGE_BYTES * 3) / 4) - 1024)));
  assert(chunk.length + 200 <= MAX_MESSAGE_BYTES); // with the JSON around it
  const messages = 10;
  await using bot = startTwilioBot((conn) => {
    conn.next((m) => m.event === "start").then(({ message }) => {
      for (let i = 0; i < messages; i++) {
        conn.send({ event: "media", streamSid: message.streamSid, media: { payload: chunk } });
      }
      conn.send({ event: "mark", streamSid: message.streamSid, mark: { name: "flooded" } });
    });
  });
  const origin = new Origin();
  const sid = "CAmemory";
  const caller = await attachCaller(origin, { sid, codec: "g711_ulaw" });
  caller.write(encodeUlaw(new Int16Array(160)), nowMicros());
  const ended: string[] = [];
  const reports: SessionReports = {
    turn() {},
    interruption() {},
    ended: (reason) => void ended.push(reason),
    hangup: () => Promise.resolve(),
    digits: () => Promise.resolve(),
    transfer: () => Promise.resolve(),
  };
  const session = await AgentSession.open({
    via: origin,
    sid,
    agent: "flood",
    adapter: mediaStreamsAdapter({ type: "media-streams", url: bot.url }),
    call: { from: "+14155550100", to: "+14155550123", direction: "inbound" },
    parameters: {},
    log: createLogger({ level: "error", json: true, sink: () => {} }),
    reports,
  });
  try {
    // Every message reached the playout once its mark is pending (it is queued after them).
    // A queued mark has no event of its own (only a played one): its count is polled.
    await waitFor("the flood's mark reaching the playout", () => {
      if (ended.length > 0) throw new Error(`the agent ended: ${ended}`);
      return session.playout.pendingMarks > 0;
    }, { timeoutMs: 60_000 });
    const { overflowSamples, queuedMs } = session.playout.counters;
    const sent = messages * (chunk.length * 3) / 4;
    assert(queuedMs <= 300_000, `queued ${queuedMs} ms`);
    assert(overflowSamples >= sent - 300 * 8000 - 8000, `dropped only ${overflowSamples} samples`);
    const footprint = session.footprint();
    assertEquals(footprint.turnBytes, 0); // a media-streams agent keeps no turn audio
    assertEquals(footprint.marks, 1);
    const oneMessage = ((chunk.length * 3) / 4) * 2;
    assert(
      footprint.playoutBytes <= QUEUE_BYTES + oneMessage,
      `the session keeps ${footprint.playoutBytes} bytes (bound ${QUEUE_BYTES + oneMessage})`,
    );
    assertEquals(ended, []); // the agent goes on
  } finally {
    await session.close("detached");
    caller.close();
  }
});
