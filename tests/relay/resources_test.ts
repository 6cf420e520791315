/**
 * Issue 17, resources: an open MoQT stream costs ~44 KB of transport state, so one
 * connection, and the relay as a whole, are bounded in how many they may hold. Real QUIC
 * clients on loopback; a hostile client opens streams it never finishes while a good pair
 * keeps streaming through the same relay.
 */
import { assert, assertEquals } from "@std/assert";
import type { MoqClient } from "../../src/relay/client.ts";
import { publishedPair, type RelayFixture, startRelay, until } from "../_lib/relay_fixture.ts";

const NS = ["voice", "CAres"];

/**
 * Sends `groups` groups of 5 numbered objects through the relay, each group once the
 * previous one has arrived (a reader that keeps up loses nothing), and checks all arrive.
 */
async function streamThrough(fx: RelayFixture, groups: number): Promise<void> {
  const { track, reader } = await publishedPair(fx, { namespace: NS, name: "uplink" });
  const received: number[] = [];
  let arrived = Promise.withResolvers<void>();
  const reading = (async () => {
    for (let group; (group = await reader.nextGroup());) {
      for (let o; (o = await group.readObject());) {
        received.push(o.payload[0]);
        if (received.length % 5 === 0) arrived.resolve();
      }
    }
  })();
  for (let g = 0; g < groups; g++) {
    arrived = Promise.withResolvers<void>();
    const group = track.appendGroup();
    for (let i = 0; i < 5; i++) group.write({ id: i, payload: Uint8Array.of(5 * g + i) });
    group.close();
    await arrived.promise;
  }
  assertEquals(received, Array.from({ length: groups * 5 }, (_, i) => i), "nothing lost");
  track.close();
  reader.close();
  await reading;
}

/** Opens a unidirectional stream and sends one byte of a SUBGROUP_HEADER, then holds it. */
async function holdStream(client: MoqClient): Promise<WritableStreamDefaultWriter<Uint8Array>> {
  const writer = (await client.session.transport.openUni()).getWriter();
  await writer.write(Uint8Array.of(0x10));
  return writer;
}

for (const configured of [64, undefined]) {
  const limit = configured ?? 1024; // the default: ~45 MB of stream state, not 10,000 (~440 MB)
  Deno.test(`one connection holds at most ${limit} streams (${configured ? "configured" : "the default"}) while other sessions keep streaming`, async () => {
    await using fx = await startRelay({}, { maxStreamsPerConnection: configured });
    const hostile = await fx.client();
    // Kept referenced: a writer collected as garbage would end its stream.
    const held = await Promise.all(Array.from({ length: limit }, () => holdStream(hostile)));
    let extraOpened = false;
    const extra = holdStream(hostile).then(
      () => extraOpened = true,
      () => "the connection closed while it waited for credit",
    );
    // A whole subscription, 20 groups through the relay's data path, completes while the
    // extra stream still waits for the relay's credit: the QUIC limit holds it back, and the
    // held streams cost the other sessions nothing.
    await streamThrough(fx, 20);
    assertEquals(extraOpened, false, `stream ${limit + 1} opened while ${limit} were held`);
    const why = hostile.session.state === "closed" ? (await hostile.closed).message : "";
    assertEquals(hostile.session.state, "established", `holding streams is no violation: ${why}`);
    assertEquals(held.length, limit);
    hostile.close();
    await extra;
  });
}

Deno.test("over the relay's stream budget a greedy session is refused, the others keep streaming", async () => {
  await using fx = await startRelay({ maxDataStreams: 32 }, { maxStreamsPerConnection: 1024 });
  const hostile = await fx.client();
  const held = await Promise.all(Array.from({ length: 200 }, () => holdStream(hostile)));
  // Every stream the relay accepted is counted or refused; wait for all 200 to be seen.
  const seen = () => fx.relay.dataStreams.open + fx.relay.dataStreams.refused;
  await until(() => seen() >= 200);
  assertEquals(fx.relay.dataStreams.open, 32, "the greedy session got the budget, no more");
  assertEquals(fx.relay.dataStreams.refused, 168);
  await streamThrough(fx, 20);
  assertEquals(hostile.session.state, "established", "a refused stream does not end the session");
  assert(fx.relay.dataStreams.open <= 2 * 32, "the relay stays under twice its budget");
  assertEquals(held.length, 200); // kept referenced to here: a collected writer ends its stream
});
