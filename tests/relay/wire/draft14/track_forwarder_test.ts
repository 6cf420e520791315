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

Deno.test("a forwarder queues a group's buffered objects without waiting for each write", async () => {
  // A transport whose streams accept writes but complete none until released: the old
  // forwarder awaited every write, so it had written one object when the first write began.
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const firstWrite = Promise.withResolvers<void>();
  const chunks: Uint8Array[] = [];
  const { server } = memoryTransports();
  const transport = Object.create(server, {
    openUni: {
      value: () =>
        Promise.resolve(
          new WritableStream<Uint8Array>({
            async write(chunk) {
              firstWrite.resolve();
              await released;
              chunks.push(chunk);
            },
          }),
        ),
    },
  });
  const track = new TrackProducer({ namespace: ["voice", "CAq"], name: "uplink" });
  const group = track.appendGroup();
  for (let i = 0; i < 40; i++) group.write({ id: i, payload: new Uint8Array(160).fill(i) });
  group.close();
  track.close();
  const forwarder = new TrackForwarder(transport, track.consume(), { trackAlias: 1 });
  const outcome = forwarder.run();
  await firstWrite.promise;
  assertEquals(forwarder.stats.objects, 16, "16 writes queued before the first completed");
  release();
  assertEquals(await outcome, "ended");
  assertEquals(forwarder.stats.objects, 40);
  assertEquals(chunks.length, 41, "the header, then all 40 objects");
  const reader = new StreamReader(
    new ReadableStream({
      start(c) {
        for (const chunk of chunks) c.enqueue(chunk);
        c.close();
      },
    }),
  );
  const header = await readDataStreamHeader(reader);
  if (header?.type !== "subgroup") throw new Error("expected a subgroup stream");
  const ids: number[] = [];
  let prev: number | undefined;
  for (let o; (o = await readSubgroupObject(reader, header.header, prev));) {
    assertEquals(o.payload[0], o.objectId);
    ids.push(prev = o.objectId);
  }
  assertEquals(ids, Array.from({ length: 40 }, (_, i) => i), "in order, none lost");
});
