/**
 * Unit tests of the TrackForwarder over an in-memory transport: one stream per group,
 * objects as they arrive, stale groups dropped for a reader that does not keep up.
 */
import { assertEquals } from "@std/assert";
import { TrackProducer } from "../../../../src/relay/model/mod.ts";
import { TrackForwarder } from "../../../../src/relay/wire/draft14/track_forwarder.ts";
import { readDataStreamHeader } from "../../../../src/relay/wire/draft14/data_stream.ts";
import { readSubgroupObject } from "../../../../src/relay/wire/draft14/subgroup_stream.ts";
import { splitTimestamp } from "../../../../src/relay/wire/draft14/extensions.ts";
import { StreamReader } from "../../../../src/relay/wire/coding/stream_reader.ts";
import { memoryTransports } from "../../../_lib/memory_transport.ts";

Deno.test("a forwarder sends each group on its own stream, objects and timestamps intact, then ends", async () => {
  const { client, server } = memoryTransports();
  const track = new TrackProducer({ namespace: ["voice", "CAf"], name: "uplink" });
  const forwarder = new TrackForwarder(server, track.consume(), { trackAlias: 7 });
  const outcome = forwarder.run();
  for (let g = 0; g < 3; g++) {
    const group = track.appendGroup();
    for (let i = 0; i < 2; i++) {
      group.write({ id: i, payload: Uint8Array.of(g, i), timestamp: 1000 * g + i });
    }
    group.close();
  }
  track.close();
  const seen: string[] = [];
  const streams = client.incomingUni.getReader();
  // Read while it forwards: a stream's writes complete only as the peer reads them.
  for (let s = 0; s < 3; s++) {
    const reader = new StreamReader((await streams.read()).value!);
    const header = await readDataStreamHeader(reader);
    if (header?.type !== "subgroup") throw new Error("expected a subgroup stream");
    let prev: number | undefined;
    for (let o; (o = await readSubgroupObject(reader, header.header, prev));) {
      prev = o.objectId;
      const { timestamp } = splitTimestamp(o.extensions);
      seen.push(`${header.header.trackAlias}/${header.header.groupId}/${o.objectId}@${timestamp}`);
    }
  }
  assertEquals(await outcome, "ended");
  assertEquals(seen, [
    "7/0/0@0",
    "7/0/1@1",
    "7/1/0@1000",
    "7/1/1@1001",
    "7/2/0@2000",
    "7/2/1@2001",
  ]);
  assertEquals([forwarder.stats.groups, forwarder.stats.objects, forwarder.stats.droppedGroups], [
    3,
    6,
    0,
  ]);
  client.close();
});
