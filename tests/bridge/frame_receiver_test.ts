/**
 * The bridge's receiving side across a publisher takeover (issue 10): when a reconnecting
 * publisher takes a track over and restarts its group ids at 0, the relay's model shifts
 * them past the old ones, so the playout buffer sees the sequence move forward and plays the
 * new publisher's frames instead of dropping them as late.
 */
import { assertEquals } from "@std/assert";
import { FrameReceiver } from "../../src/bridge/frame_receiver.ts";
import { TrackProducer } from "../../src/relay/model/mod.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../src/voice/track.ts";

const format = { codec: "g711_ulaw", sampleRate: 8000, channels: 1, frameMs: 20 } as const;

function writeGroup(track: TrackProducer, groupId: number, mark: number): void {
  const group = track.appendGroup(groupId);
  for (let i = 0; i < FRAMES_PER_GROUP; i++) {
    group.write({ id: i, payload: new Uint8Array(160).fill(mark), timestamp: nowMicros() });
  }
  group.close();
}

Deno.test("after a takeover whose new publisher restarts at group 0, the bridge plays the new publisher's frames and drops none as late", async () => {
  const old = new TrackProducer({ namespace: ["voice", "CA1"], name: "uplink" });
  const receiver = await FrameReceiver.create(old.consume(), {
    track: format,
    output: format,
    maxLatencyMs: 10_000, // a frame is never too old here: only the sequence is tested
    reorderMs: 0,
  });
  writeGroup(old, 40, 1);
  for (let i = 0; i < FRAMES_PER_GROUP; i++) assertEquals((await receiver.read())?.payload[0], 1);
  const fresh = old.supersede();
  writeGroup(fresh, 0, 2);
  fresh.close(); // the end of the track ends the reads: frames dropped as late would be missing
  const marks: number[] = [];
  for (let frame; (frame = await receiver.read());) marks.push(frame.payload[0]);
  assertEquals(marks, new Array(FRAMES_PER_GROUP).fill(2));
  assertEquals(receiver.stats.lateDropped, 0);
  assertEquals(receiver.stats.concealed, 0, "the sequence continued without a gap");
  receiver.close();
});
