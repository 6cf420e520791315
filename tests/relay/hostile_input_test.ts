/**
 * Hostile input against the relay over real QUIC: a raw `moq-00` connection opens the control
 * stream itself and writes crafted bytes (valid messages from `encodeControlMessage`, then
 * corrupted). Each case checks the relay closes only that session with draft-14's error
 * code, as seen by the client in QUIC CONNECTION_CLOSE, or answers it with the right error
 * message. Meanwhile a well-behaved publisher→subscriber pair streams objects through the
 * same relay and must receive every object in order.
 */
import { assert, assertEquals } from "@std/assert";
import { publishedPair, type RelayFixture, startRelay } from "../_lib/relay_fixture.ts";
import type { RelayOptions } from "../../src/relay/relay.ts";
import { pace, waitFor } from "../_lib/wait.ts";
import {
  type BidiStream,
  connectMoqQuic,
  type MoqTransport,
} from "../../src/relay/transport/mod.ts";
import {
  type ControlMessage,
  DRAFT14_VERSION,
  encodeControlMessage,
  readControlMessage,
  SetupParameter,
  StreamReader,
} from "../../src/relay/wire/draft14/mod.ts";
import { SessionErrorCode, SubscribeErrorCode } from "../../src/relay/wire/draft14/error_codes.ts";

const NS = ["voice", "GOOD"];

// ---------------------------------------------------------------------------------------
// The well-behaved pair

interface GoodPair {
  /** How many objects the good subscriber has received so far. */
  readonly received: number;
  /** Stops publishing and checks every object arrived, in order, on live sessions. */
  verify(): Promise<void>;
}

/** A publisher streaming numbered objects (5 per group, a group every 10 ms) to a subscriber. */
async function startGoodPair(fx: RelayFixture): Promise<GoodPair> {
  const { publisher, subscriber, track, reader } = await publishedPair(fx, {
    namespace: NS,
    name: "uplink",
    capability: "voice/opus",
  });
  let sent = 0;
  let running = true;
  const pump = (async () => {
    while (running) {
      const group = track.appendGroup();
      for (let i = 0; i < 5; i++) {
        const payload = new Uint8Array(4);
        new DataView(payload.buffer).setUint32(0, sent++);
        group.write({ id: i, payload });
      }
      group.close();
      await pace(10); // a steady stream for the attack to run against
    }
  })();
  const received: number[] = [];
  const reading = (async () => {
    for (let group; (group = await reader.nextGroup());) {
      for (let o; (o = await group.readObject());) {
        received.push(new DataView(o.payload.buffer, o.payload.byteOffset).getUint32(0));
      }
    }
  })();
  return {
    get received() {
      return received.length;
    },
    async verify() {
      running = false;
      await pump;
      await waitFor("every object sent", () => received.length >= sent, { timeoutMs: 2000 })
        .catch(() => {
          // A shortfall: the assertions below say which objects are missing.
        });
      assertEquals(publisher.session.state, "established", "the good publisher is untouched");
      assertEquals(subscriber.session.state, "established", "the good subscriber is untouched");
      assert(sent > 0, "the good publisher sent objects");
      // One comparison of the whole sequence: nothing lost, duplicated or reordered.
      const seen = new Set(received);
      const missing = Array.from({ length: sent }, (_, i) => i).filter((i) => !seen.has(i));
      assertEquals(missing, [], `the good subscriber lost objects (of ${sent} sent)`);
      assertEquals(
        received.every((v, i) => v === i),
        true,
        "the good subscriber received every object once, in order",
      );
      reader.close();
      track.close();
      await reading;
    },
  };
}

/** Waits until only the good pair's two sessions are left. */
async function expectOnlyGoodSessions(fx: RelayFixture): Promise<void> {
  await waitFor("the hostile session to go", () => fx.relay.sessionCount === 2, {
    timeoutMs: 2000,
  });
  assertEquals(fx.relay.sessionCount, 2, "the hostile session is gone, the good pair stays");
}

/** The relay logged nothing at error level (an internal failure, not a refused peer). */
function expectNoRelayErrors(fx: RelayFixture): void {
  const errors = fx.lines.filter((line) => JSON.parse(line).level === "error");
  assertEquals(errors, [], "the relay logged no internal errors");
}

/** A relay, a streaming good pair, and a final check that the pair never noticed. */
async function withGoodPair(
  options: Partial<RelayOptions>,
  hostile: (fx: RelayFixture) => Promise<void>,
): Promise<void> {
  await using fx = await startRelay(options);
  const pair = await startGoodPair(fx);
  await waitFor("the good pair to stream", () => pair.received > 0);
  await hostile(fx);
  const before = pair.received;
  await waitFor("the good pair to go on streaming after the attack", () => pair.received > before);
  await expectOnlyGoodSessions(fx);
  await pair.verify();
  expectNoRelayErrors(fx);
}

// ---------------------------------------------------------------------------------------
// The hostile client: raw bytes on a raw QUIC connection

interface Hostile {
  readonly transport: MoqTransport;
  readonly control: BidiStream;
  readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly reader: StreamReader;
  /** The MAX_REQUEST_ID the relay advertised in SERVER_SETUP (after `setup()`). */
  maxRequestId: number;
}

async function connectHostile(fx: RelayFixture): Promise<Hostile> {
  const transport = await connectMoqQuic({
    hostname: "127.0.0.1",
    port: fx.port,
    caCerts: [fx.cert.certPem],
  });
  const control = await transport.openBidi();
  return {
    transport,
    control,
    writer: control.writable.getWriter(),
    reader: new StreamReader(control.readable),
    maxRequestId: 0,
  };
}

const clientSetup = (versions = [DRAFT14_VERSION]): ControlMessage => ({
  type: "client_setup",
  versions,
  parameters: new Map([[SetupParameter.MAX_REQUEST_ID, 100]]),
});

const subscribe = (requestId: number, name = "nobody"): ControlMessage => ({
  type: "subscribe",
  requestId,
  namespace: ["voice", "nobody"],
  name,
  subscriberPriority: 128,
  groupOrder: 0,
  forward: true,
  filter: { type: "largest_object" },
  parameters: new Map(),
});

/** Writes raw bytes; a write may fail once the relay has closed the connection. */
async function write(h: Hostile, bytes: Uint8Array): Promise<void> {
  await h.writer.write(bytes).catch(() => {});
}

/** A control frame with an arbitrary type, length and payload (draft-14 §9). */
function frame(type: number, payload: Uint8Array, length = payload.length): Uint8Array {
  assert(type < 0x40, "one-byte type");
  return Uint8Array.of(type, length >> 8, length & 0xff, ...payload);
}

/** The payload of an encoded control message (types below 0x40 take one byte). */
function payloadOf(message: ControlMessage): Uint8Array {
  return encodeControlMessage(message).slice(3);
}

/** Completes the setup exchange honestly. */
async function setup(h: Hostile): Promise<void> {
  await write(h, encodeControlMessage(clientSetup()));
  const reply = await readControlMessage(h.reader);
  assert(reply?.type === "server_setup", "the relay answers with SERVER_SETUP");
  assertEquals(reply.version, DRAFT14_VERSION);
  h.maxRequestId = Number(reply.parameters.get(SetupParameter.MAX_REQUEST_ID));
  assert(h.maxRequestId > 0, "SERVER_SETUP advertises MAX_REQUEST_ID");
}

/**
 * Waits for the relay to close the connection and checks the application close code it sent
 * in CONNECTION_CLOSE (Deno surfaces it as `closeCode` on the client's `conn.closed`).
 */
async function expectClosed(h: Hostile, code: number, within = 3000): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const info = await Promise.race([
    h.transport.closed,
    new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), within)),
  ]);
  clearTimeout(timer);
  h.transport.close();
  assert(info, `the relay did not close the connection within ${within} ms`);
  assertEquals(
    { code: info.code.toString(16) },
    { code: code.toString(16) },
    `close code (reason: ${info.reason})`,
  );
  return info.reason;
}

/** Checks the connection is still open after `ms`. */
async function expectOpen(h: Hostile, ms = 100): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    h.transport.closed.then((info) => info),
    new Promise<false>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  assertEquals(closed, false, "the session stays up");
}

/** A deterministic pseudo-random byte source (xorshift32), so failures reproduce. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const PV = SessionErrorCode.PROTOCOL_VIOLATION;

// ---------------------------------------------------------------------------------------
// Setup

Deno.test("CLIENT_SETUP offering only unknown versions fails version negotiation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await write(h, encodeControlMessage(clientSetup([0xff000001, 0xff0dad02, 0x1])));
    await expectClosed(h, SessionErrorCode.VERSION_NEGOTIATION_FAILED);
  });
});

Deno.test("a first control message other than CLIENT_SETUP is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await write(h, encodeControlMessage(subscribe(0)));
    await expectClosed(h, PV);
  });
});

Deno.test("a second CLIENT_SETUP after setup is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    await write(h, encodeControlMessage(clientSetup()));
    await expectClosed(h, PV);
  });
});

Deno.test("a connection that never sends CLIENT_SETUP is closed after the setup timeout", async () => {
  await withGoodPair({ setupTimeoutMs: 200 }, async (fx) => {
    // One client opens no stream at all, one stalls half-way through CLIENT_SETUP.
    const silent = await connectHostile(fx);
    const stalled = await connectHostile(fx);
    await write(stalled, encodeControlMessage(clientSetup()).subarray(0, 4));
    const started = performance.now();
    await Promise.all([
      expectClosed(silent, SessionErrorCode.CONTROL_MESSAGE_TIMEOUT),
      expectClosed(stalled, SessionErrorCode.CONTROL_MESSAGE_TIMEOUT),
    ]);
    const elapsed = performance.now() - started;
    assert(elapsed >= 150, `closed after ${elapsed} ms, before the 200 ms setup timeout`);
  });
});

Deno.test("a control message that starts and then stalls closes the session; an idle one does not", async () => {
  await withGoodPair({ messageTimeoutMs: 200 }, async (fx) => {
    const idle = await connectHostile(fx);
    await setup(idle);
    const stalled = await connectHostile(fx);
    await setup(stalled);
    // The first three bytes of a SUBSCRIBE frame: type and length, then nothing.
    await write(stalled, frame(0x03, new Uint8Array(40)).subarray(0, 3));
    await expectClosed(stalled, SessionErrorCode.CONTROL_MESSAGE_TIMEOUT);
    await expectOpen(idle, 300);
    idle.transport.close();
  });
});

// ---------------------------------------------------------------------------------------
// Framing

Deno.test("a truncated varint inside a control message is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    // MAX_REQUEST_ID whose one-byte payload starts a four-byte varint.
    await write(h, frame(0x15, Uint8Array.of(0x80)));
    await expectClosed(h, PV);
  });
});

Deno.test("a length past the end of the control message is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    // SUBSCRIBE payload: request id, namespace field count, first field's length. Claim 63
    // bytes for a field in a message far shorter than that.
    const payload = payloadOf(subscribe(0));
    assertEquals([payload[0], payload[1], payload[2]], [0, 2, 5], "layout of the payload");
    payload[2] = 0x3f;
    assert(payload.length < 63);
    await write(h, frame(0x03, payload));
    await expectClosed(h, PV);
  });
});

Deno.test("a frame length past the end of the control stream is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    // The frame says 200 payload bytes; the stream ends (FIN) after a few.
    const payload = payloadOf(subscribe(0));
    await write(h, frame(0x03, payload, 200));
    await h.writer.close().catch(() => {});
    await expectClosed(h, PV);
  });
});

Deno.test("trailing bytes after a control message's fields are a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    await write(h, frame(0x03, Uint8Array.of(...payloadOf(subscribe(0)), 0x00)));
    await expectClosed(h, PV);
  });
});

Deno.test("an unknown control message type is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    await write(h, frame(0x3e, Uint8Array.of(1, 2, 3)));
    await expectClosed(h, PV);
  });
});

Deno.test("a 65535-byte garbage SUBSCRIBE is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    for (const payload of [randomBytes(0xffff, 0xc1c7c4), new Uint8Array(0xffff).fill(0xff)]) {
      const h = await connectHostile(fx);
      await setup(h);
      await write(h, frame(0x03, payload));
      await expectClosed(h, PV);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Request ids

Deno.test("a request id that is not the next expected one is INVALID_REQUEST_ID", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    await write(h, encodeControlMessage(subscribe(2))); // the first must be 0
    await expectClosed(h, SessionErrorCode.INVALID_REQUEST_ID);
  });
});

Deno.test("a request id at the advertised MAX_REQUEST_ID is TOO_MANY_REQUESTS", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    await write(h, encodeControlMessage(subscribe(h.maxRequestId)));
    await expectClosed(h, SessionErrorCode.TOO_MANY_REQUESTS);
  });
});

// ---------------------------------------------------------------------------------------
// Requests and replies

Deno.test("SUBSCRIBE to an unknown track gets SUBSCRIBE_ERROR and the session stays up", async () => {
  await withGoodPair({ subscribeTimeoutMs: 100 }, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    for (const requestId of [0, 2]) {
      await write(h, encodeControlMessage(subscribe(requestId, `nobody-${requestId}`)));
      const reply = await readControlMessage(h.reader);
      assert(reply?.type === "subscribe_error", `expected SUBSCRIBE_ERROR, got ${reply?.type}`);
      assertEquals(reply.requestId, requestId);
      assertEquals(reply.errorCode, SubscribeErrorCode.TRACK_DOES_NOT_EXIST);
      await expectOpen(h);
    }
    assertEquals(fx.relay.sessionCount, 3, "the refused subscriber's session is still there");
    h.transport.close();
  });
});

Deno.test("SUBSCRIBE_OK for a request the relay never made is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    // Request id 1 has the relay's parity but the relay has made no request yet.
    for (const requestId of [1, 0]) {
      const h = await connectHostile(fx);
      await setup(h);
      await write(
        h,
        encodeControlMessage({
          type: "subscribe_ok",
          requestId,
          trackAlias: 7,
          expires: 0,
          groupOrder: 1,
          parameters: new Map(),
        }),
      );
      await expectClosed(h, PV);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Streams

Deno.test("a second bidirectional stream is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    const h = await connectHostile(fx);
    await setup(h);
    const second = await h.transport.openBidi();
    // QUIC announces a stream with its first byte.
    await second.writable.getWriter().write(encodeControlMessage(subscribe(0))).catch(() => {});
    await expectClosed(h, PV);
  });
});

Deno.test("garbage on a unidirectional data stream is a protocol violation", async () => {
  await withGoodPair({}, async (fx) => {
    // A stream type that is neither FETCH_HEADER nor SUBGROUP_HEADER, then random bytes.
    const h = await connectHostile(fx);
    await setup(h);
    const uni = await h.transport.openUni();
    await uni.getWriter().write(Uint8Array.of(0x3f, ...randomBytes(64, 7))).catch(() => {});
    await expectClosed(h, PV);
  });
});

// ---------------------------------------------------------------------------------------
// Many at once

/** One hostile client of each kind, cycling; resolves once the relay closed it as expected. */
async function hostileConnection(fx: RelayFixture, kind: number): Promise<void> {
  const h = await connectHostile(fx);
  switch (kind % 8) {
    case 0:
      await write(h, encodeControlMessage(clientSetup([0x1])));
      return void await expectClosed(h, SessionErrorCode.VERSION_NEGOTIATION_FAILED, 10_000);
    case 1:
      await write(h, encodeControlMessage(subscribe(0)));
      return void await expectClosed(h, PV, 10_000);
    case 2:
      await setup(h);
      await write(h, frame(0x03, randomBytes(0xffff, kind + 1)));
      return void await expectClosed(h, PV, 10_000);
    case 3:
      await setup(h);
      await write(h, frame(0x3e, Uint8Array.of(0)));
      return void await expectClosed(h, PV, 10_000);
    case 4:
      await setup(h);
      await write(h, encodeControlMessage(subscribe(h.maxRequestId)));
      return void await expectClosed(h, SessionErrorCode.TOO_MANY_REQUESTS, 10_000);
    case 5:
      await setup(h);
      await write(h, encodeControlMessage(subscribe(4)));
      return void await expectClosed(h, SessionErrorCode.INVALID_REQUEST_ID, 10_000);
    case 6: {
      await setup(h);
      const uni = await h.transport.openUni();
      await uni.getWriter().write(Uint8Array.of(0x3f, 0, 0)).catch(() => {});
      return void await expectClosed(h, PV, 10_000);
    }
    default:
      await write(h, frame(0x20, Uint8Array.of(0xc0))); // CLIENT_SETUP, truncated varint
      return void await expectClosed(h, PV, 10_000);
  }
}

Deno.test("a burst of 50 hostile connections leaves the streaming pair untouched", async () => {
  await withGoodPair({}, async (fx) => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => hostileConnection(fx, i)),
    );
    const failures = results.flatMap((r, i) =>
      r.status === "rejected" ? [`#${i} (kind ${i % 8}): ${r.reason?.message ?? r.reason}`] : []
    );
    assertEquals(failures, [], "every hostile connection was closed with its code");
  });
});
