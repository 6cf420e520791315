/**
 * SIP over TCP through real boundaries: a sipp call on a TCP connection, and a raw TCP
 * client that tests the stream framing (two messages in one write, one message split across
 * writes).
 */
import { assert, assertEquals } from "@std/assert";
import { callerArgs, haveSipp, sipp, spawnSipp, startGateway, waitForStatus } from "./_harness.ts";

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
    // Let each piece arrive as its own read at the gateway.
    await new Promise((r) => setTimeout(r, 50));
  }
  const [answer] = await readResponses(conn, 1);
  assert(answer.startsWith("SIP/2.0 200"), answer);
  assertEquals(/branch=z9hG4bK(\w+)/.exec(answer)?.[1], "split");
});

Deno.test("tcp: originate over a TCP trunk to a sipp UAS walks dialing → ringing → in_progress → completed", async () => {
  if (!haveSipp()) return;
  const port = freeTcpPort();
  await using peer = spawnSipp([
    "-sn",
    "uas",
    "-t",
    "t1",
    "-i",
    "127.0.0.1",
    "-p",
    String(port),
    "-m",
    "1",
  ]);
  await using fx = await startGateway({
    sip: {
      transports: ["udp", "tcp"],
      trunks: [{
        name: "loop-tcp",
        address: `127.0.0.1:${port}`,
        transport: "tcp",
        allowFrom: ["127.0.0.1"],
        outboundNumbers: ["+1"],
      }],
    },
  });
  await new Promise((r) => setTimeout(r, 300));
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  await fx.waitFor(async () => {
    const c = await fx.calls.get(call.sid);
    return c.status === "in_progress" ? c : undefined;
  });
  await fx.calls.hangup(call.sid);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
  const ended = await fx.calls.get(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  assertEquals(fx.statuses(call.sid), ["dialing", "ringing", "in_progress", "completed"]);
});

function freeTcpPort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return (listener.addr as Deno.NetAddr).port;
}
