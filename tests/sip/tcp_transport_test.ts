/**
 * SIP over TCP through real boundaries: a sipp call on a TCP connection, and a raw TCP
 * client that tests the stream framing (two messages in one write, one message split across
 * writes).
 */
import { assert, assertEquals } from "@std/assert";
import { listenSipTcp } from "../../src/sip/tcp_transport.ts";
import { pace, quietPeriod } from "../_lib/wait.ts";
import {
  callerArgs,
  hangUp,
  haveSipp,
  originate,
  sipp,
  spawnSippUas,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

Deno.test("tcp: a sipp call over TCP becomes an inbound call that reaches in_progress and completes on BYE", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({ sip: { transports: ["udp", "tcp"] } });
  const result = await sipp(callerArgs(fx.port, ["-sn", "uac", "-t", "t1"]));
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr);
  const call = await waitForStatus(fx, "completed");
  assertEquals(call.direction, "inbound");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
  assertEquals(call.endReason, "caller_hangup");
  assertEquals(fx.gateway.activeLegs, 0);
});

const options = (branch: string, port: number) =>
  [
    `OPTIONS sip:+14155550199@127.0.0.1:${port};transport=tcp SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK${branch}`,
    "Max-Forwards: 70",
    `From: <sip:probe@127.0.0.1>;tag=${branch}`,
    `To: <sip:+14155550199@127.0.0.1:${port}>`,
    `Call-ID: ${branch}@127.0.0.1`,
    "CSeq: 1 OPTIONS",
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");

/** Reads responses off `conn` until `count` status lines have arrived. */
async function readResponses(conn: Deno.TcpConn, count: number): Promise<string[]> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16_384);
  let text = "";
  const timeout = setTimeout(() => conn.close(), 10_000);
  try {
    for (;;) {
      const starts = text.match(/^SIP\/2\.0 \d{3}[^\r\n]*$/gm) ?? [];
      if (starts.length >= count && /\r\n\r\n/.test(text.slice(text.lastIndexOf("SIP/2.0 ")))) {
        return text.split(/(?=^SIP\/2\.0 \d{3})/m).filter((m) => m.startsWith("SIP/2.0"));
      }
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`Connection closed after: ${JSON.stringify(text)}`);
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timeout);
  }
}

Deno.test("tcp: two SIP messages in one write and one message split across writes are each answered", async () => {
  await using fx = await startGateway({ sip: { transports: ["udp", "tcp"] } });
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: fx.port, transport: "tcp" });
  const encoder = new TextEncoder();

  // Two messages back to back in a single write.
  await conn.write(encoder.encode(options("pairA", fx.port) + options("pairB", fx.port)));
  const pair = await readResponses(conn, 2);
  assertEquals(pair.length, 2, pair.join("\n---\n"));
  const branches = pair.map((r) => /branch=z9hG4bK(\w+)/.exec(r)?.[1]);
  assertEquals(branches.sort(), ["pairA", "pairB"]);
  for (const response of pair) assert(response.startsWith("SIP/2.0 200"), response);

  // One message in three writes, cut inside a header and inside the blank line.
  const split = encoder.encode(options("split", fx.port));
  const cuts = [0, 37, split.length - 3, split.length];
  for (let i = 0; i + 1 < cuts.length; i++) {
    await conn.write(split.subarray(cuts[i], cuts[i + 1]));
    // Let each piece arrive as its own read at the gateway (nothing to observe: a lower bound).
    await quietPeriod(50);
  }
  const [answer] = await readResponses(conn, 1);
  assert(answer.startsWith("SIP/2.0 200"), answer);
  assertEquals(/branch=z9hG4bK(\w+)/.exec(answer)?.[1], "split");
});

Deno.test("tcp: originate over a TCP trunk to a sipp UAS walks dialing → ringing → in_progress → completed", async () => {
  if (!haveSipp()) return;
  await using peer = await spawnSippUas(["-sn", "uas", "-m", "1"], { transport: "tcp" });
  await using fx = await startGateway({
    sip: {
      transports: ["udp", "tcp"],
      trunks: [{
        name: "loop-tcp",
        address: `127.0.0.1:${peer.port}`,
        transport: "tcp",
        allowFrom: ["127.0.0.1"],
        outboundNumbers: ["+1"],
      }],
    },
  });
  const call = await originate(fx);
  const ended = await hangUp(fx, call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "in_progress", "completed"]);
});

/** A raw TCP transport with the given timeouts; `drops` records why connections closed. */
function tcpServer(timeouts: { idleTimeoutMs: number; headerTimeoutMs: number }) {
  const drops: string[] = [];
  const received: string[] = [];
  const socket = listenSipTcp({
    host: "127.0.0.1",
    port: 0,
    maxBytes: 8192,
    receive: (bytes) => received.push(new TextDecoder().decode(bytes)),
    onDrop: (reason) => drops.push(reason),
    ...timeouts,
  });
  return { socket, drops, received };
}

/** Resolves with how `conn` ended: the server closed it (EOF or reset). Bounded by 30 s so
 * that a server that never closes fails the test instead of hanging it. */
async function closedByServer(conn: Deno.TcpConn): Promise<"closed"> {
  const buffer = new Uint8Array(1024);
  const deadline = setTimeout(() => conn.close(), 30_000);
  try {
    while (await conn.read(buffer) !== null) { /* responses are not the point here */ }
    return "closed";
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionReset) return "closed";
    throw new Error(`The server never closed the connection: ${error}`);
  } finally {
    clearTimeout(deadline);
    closeQuietly(conn);
  }
}

/** Closes `conn` on our side too; already closed (BadResource) is the expected case. */
function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

Deno.test("tcp: a connection that never sends a message is closed at the header timeout", async () => {
  const server = tcpServer({ idleTimeoutMs: 600_000, headerTimeoutMs: 300 });
  await using _socket = server.socket;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.socket.port });
  assertEquals(await closedByServer(conn), "closed");
  assertEquals(server.drops, ["header timeout"]);
});

Deno.test("tcp: a slow sender dribbling a message that never completes is closed at the header timeout, though it is never idle", async () => {
  const server = tcpServer({ idleTimeoutMs: 600_000, headerTimeoutMs: 500 });
  await using _socket = server.socket;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.socket.port });
  const closed = closedByServer(conn);
  const text = new TextEncoder().encode(options("slow", server.socket.port));
  let done = false;
  closed.finally(() => done = true);
  // A byte at a time, each well within the idle timeout, until the server hangs up.
  for (let i = 0; !done && i < text.length - 1; i++) {
    try {
      await conn.write(text.subarray(i, i + 1));
    } catch (error) {
      if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.BrokenPipe) {
        break;
      }
      if (error instanceof Deno.errors.ConnectionReset) break;
      throw error;
    }
    await pace(20); // a slow writer until the gateway closes on it
  }
  assertEquals(await closed, "closed");
  assertEquals(server.drops, ["header timeout"]);
  assertEquals(server.received, []);
});

Deno.test("tcp: a connection silent after a complete message is closed at the idle timeout (a half-open peer)", async () => {
  const server = tcpServer({ idleTimeoutMs: 300, headerTimeoutMs: 600_000 });
  await using _socket = server.socket;
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.socket.port });
  await conn.write(new TextEncoder().encode(options("once", server.socket.port)));
  assertEquals(await closedByServer(conn), "closed");
  assertEquals(server.received.length, 1);
  assertEquals(server.drops, ["idle timeout"]);
});
