/**
 * How a session classifies the end of its peer's control stream (last session's note: a
 * normal page close was logged as protocol_violation): a peer going away is a clean close,
 * and only a raw QUIC peer that ends its control stream yet keeps its connection open is
 * violating the protocol.
 */
import { assertEquals } from "@std/assert";
import { controlStreamEndError } from "../../../../src/relay/wire/draft14/control_end.ts";
import { Origin } from "../../../../src/relay/model/mod.ts";
import { Session } from "../../../../src/relay/wire/draft14/session.ts";
import { DRAFT14_VERSION, encodeControlMessage } from "../../../../src/relay/wire/draft14/mod.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { memoryTransports } from "../../../_lib/memory_transport.ts";

Deno.test("the end of a peer's control stream: a WebTransport peer's is its clean close, a raw QUIC peer's is clean when its connection closes too, else a protocol violation", () => {
  assertEquals(
    controlStreamEndError({ transport: "webtransport", connectionClosed: false })?.kind,
    "no_error",
  );
  assertEquals(
    controlStreamEndError({ transport: "webtransport", connectionClosed: true }),
    undefined,
  );
  assertEquals(controlStreamEndError({ transport: "quic", connectionClosed: true }), undefined);
  assertEquals(
    controlStreamEndError({ transport: "quic", connectionClosed: false })?.kind,
    "protocol_violation",
  );
});

/** A server session and a hand-driven client that has sent CLIENT_SETUP and read the reply. */
async function rawClient() {
  const { client, server: serverTransport } = memoryTransports();
  const controlEnded = Promise.withResolvers<"control stream ended">();
  const log = createLogger({
    level: "debug",
    json: true,
    sink: (line) => {
      if (line.includes("The peer ended its control stream")) {
        controlEnded.resolve("control stream ended");
      }
    },
  });
  const server = new Session(serverTransport, {
    role: "server",
    origin: new Origin({ subscribeTimeoutMs: 0 }),
    log,
  });
  const control = await client.openBidi();
  const writer = control.writable.getWriter();
  await writer.write(
    encodeControlMessage({
      type: "client_setup",
      versions: [DRAFT14_VERSION],
      parameters: new Map(),
    }),
  );
  await server.ready;
  return { client, server, writer, controlEnded: controlEnded.promise };
}

Deno.test("a raw QUIC peer that ends its control stream and closes its connection is a clean close, not a protocol violation", async () => {
  const { client, server, writer, controlEnded } = await rawClient();
  await writer.close(); // FIN on the control stream first, as a closing peer's often arrives
  const first = await Promise.race([controlEnded, server.closed.then((e) => e.kind)]);
  assertEquals(first, "control stream ended", "the session read the FIN and is still up");
  client.close({ code: 0, reason: "bye" });
  const error = await server.closed;
  assertEquals(error.kind, "no_error");
});

Deno.test("a raw QUIC peer that ends its control stream but keeps its connection is closed for a protocol violation", async () => {
  const { client, server, writer } = await rawClient();
  await writer.close();
  const error = await server.closed;
  assertEquals(error.kind, "protocol_violation");
  assertEquals((await client.closed).code, 0x3, "PROTOCOL_VIOLATION on the wire");
});
