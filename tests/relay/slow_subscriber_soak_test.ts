/**
 * Soak: a subscriber that stops reading for 200 groups (40 s of voice at 10 frames a group),
 * through the relay over real QUIC. It loses whole stale groups, not latency: when it reads
 * again it gets a bounded handful of whole old groups, then the live one; the other
 * subscriber of the same track is never slowed. Driven by signals only: each group is written
 * once the fast subscriber has read the previous one, and the stall ends on a count.
 */
import { assert, assertEquals, assertGreaterOrEqual, assertLessOrEqual } from "@std/assert";
import { startRelay, testLogger } from "../_lib/relay_fixture.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { QuicTransport } from "../../src/relay/transport/quic.ts";
import type { BidiStream, MoqTransport } from "../../src/relay/transport/transport.ts";
import type { TrackConsumer } from "../../src/relay/model/mod.ts";
import { relayTally } from "../../src/metrics/tally.ts";

const GROUPS = 200;
const FRAMES = 10;
/** The slow client's QUIC limit on open unidirectional streams (its receive backlog). */
const STREAM_LIMIT = 8;

/** A transport whose incoming data streams are held, unread, until `release()`. */
class HeldTransport implements MoqTransport {
  readonly kind = "quic" as const;
  readonly incomingUni: ReadableStream<ReadableStream<Uint8Array>>;
  readonly #inner: MoqTransport;
  readonly #held: ReadableStream<Uint8Array>[] = [];
  #controller!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  #open = false;
  constructor(inner: MoqTransport) {
    this.#inner = inner;
    this.incomingUni = new ReadableStream({ start: (c) => void (this.#controller = c) });
    (async () => {
      for await (const stream of inner.incomingUni) {
        if (this.#open) this.#controller.enqueue(stream);
        else this.#held.push(stream);
      }
      this.#controller.close();
    })().catch((error) => this.#controller.error(error));
  }
  get held(): number {
    return this.#held.length;
  }
  release(): void {
    this.#open = true;
    for (const stream of this.#held.splice(0)) this.#controller.enqueue(stream);
  }
  get remote(): string {
    return this.#inner.remote;
  }
  get query(): URLSearchParams {
    return this.#inner.query;
  }
  get path(): string | undefined {
    return this.#inner.path;
  }
  get incomingBidi(): ReadableStream<BidiStream> {
    return this.#inner.incomingBidi;
  }
  get maxDatagramSize(): number {
    return this.#inner.maxDatagramSize;
  }
  get incomingDatagrams(): ReadableStream<Uint8Array> {
    return this.#inner.incomingDatagrams;
  }
  get closed(): MoqTransport["closed"] {
    return this.#inner.closed;
  }
  openBidi(): Promise<BidiStream> {
    return this.#inner.openBidi();
  }
  openUni(): Promise<WritableStream<Uint8Array>> {
    return this.#inner.openUni();
  }
  sendDatagram(payload: Uint8Array): void {
    this.#inner.sendDatagram(payload);
  }
  close(info?: { code: number; reason: string }): void {
    this.#inner.close(info);
  }
}

/** Reads whole groups of `consumer`, calling `onGroup` as each one ends. */
async function readGroups(
  consumer: TrackConsumer,
  onGroup: (id: number, objects: number[]) => void,
): Promise<void> {
  for (let group; (group = await consumer.nextGroup());) {
    const g = group;
    (async () => {
      const objects: number[] = [];
      for (let o; (o = await g.readObject());) objects.push(o.payload[1]);
      onGroup(g.id, objects);
    })().catch((error) => onGroup(g.id, [-1, String(error).length]));
  }
}

Deno.test("a slow subscriber loses whole stale groups, not latency, and never slows the others", async () => {
  await using fx = await startRelay();
  const publisher = await fx.client();
  const track = await publisher.publish({
    namespace: ["voice", "CAsoak"],
    name: "uplink",
    capability: "voice/opus",
  });
  const fast = await (await fx.client()).subscribe(["voice", "CAsoak"], "uplink");
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port: fx.port,
    caCerts: [fx.cert.certPem],
    serverName: "localhost",
    alpnProtocols: ["moq-00"],
    maxConcurrentUnidirectionalStreams: STREAM_LIMIT,
  });
  await conn.handshake;
  const held = new HeldTransport(new QuicTransport(conn));
  await using slowClient = await MoqClient.over(held, { log: testLogger().log });
  const slow = await slowClient.subscribe(["voice", "CAsoak"], "uplink");

  const fastGroups = new Map<number, number[]>();
  const waiting = new Map<number, () => void>();
  readGroups(fast, (id, objects) => {
    fastGroups.set(id, objects);
    waiting.get(id)?.();
  });
  const slowGroups: { id: number; objects: number[] }[] = [];
  const marker = Promise.withResolvers<void>();
  readGroups(slow, (id, objects) => {
    slowGroups.push({ id, objects });
    if (id === GROUPS) marker.resolve();
  });
  const writeGroup = (g: number) => {
    const group = track.appendGroup(g);
    for (let i = 0; i < FRAMES; i++) group.write({ id: i, payload: Uint8Array.of(g & 0xff, i) });
    group.close();
  };

  const dropped0 = relayTally.droppedGroups;
  for (let g = 0; g < GROUPS; g++) {
    const read = new Promise<void>((resolve) => waiting.set(g, resolve));
    writeGroup(g);
    await read; // the fast subscriber has the whole group: write the next one
  }
  const whole = Array.from({ length: FRAMES }, (_, i) => i);
  assertEquals(fastGroups.size, GROUPS, "the fast subscriber got every group");
  assert([...fastGroups.values()].every((o) => o.join() === whole.join()), "all of them whole");
  assertLessOrEqual(held.held, STREAM_LIMIT, "the slow client's QUIC backlog is its stream limit");
  assertGreaterOrEqual(relayTally.droppedGroups - dropped0, 1, "the relay dropped stale groups");

  // The slow subscriber reads again; the next group written is the live one.
  held.release();
  writeGroup(GROUPS);
  await marker.promise;
  const stale = slowGroups.filter((g) => g.id < GROUPS);
  console.log(
    `slow subscriber after a ${GROUPS}-group stall: ${stale.length} stale groups (${
      stale.map((g) => g.id).join(",")
    }), relay dropped ${relayTally.droppedGroups - dropped0}`,
  );
  // Bounded by its stream limit plus the relay's in-flight and cached groups, not by the stall.
  assertLessOrEqual(stale.length, STREAM_LIMIT + 4 + 4);
  for (const { id, objects } of slowGroups) {
    assertEquals(objects, whole, `group ${id} arrived whole`);
  }
  const ids = slowGroups.map((g) => g.id);
  assertEquals(new Set(ids).size, ids.length, "no group twice");
  slow.close();
  fast.close();
});
