import { assert, assertEquals } from "@std/assert";
import type { Call } from "../../src/calls/call.ts";
import { type Fixture, startGateway } from "./_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function invite(
  port: number,
  opts: { sdp?: string; callId?: string; extra?: string } = {},
): string {
  const sdp = opts.sdp ??
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
  const callId = opts.callId ?? crypto.randomUUID();
  return [
    `INVITE sip:+14155550199@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK${crypto.randomUUID().slice(0, 8)};rport`,
    "Max-Forwards: 70",
    "From: <sip:+14155550100@127.0.0.1>;tag=abc",
    `To: <sip:+14155550199@127.0.0.1:${port}>`,
    `Call-ID: ${callId}`,
    "CSeq: 1 INVITE",
    "Contact: <sip:caller@127.0.0.1:9>",
    "Content-Type: application/sdp",
    opts.extra ?? "X-Test: 1",
    `Content-Length: ${enc.encode(sdp).length}`,
    "",
    sdp,
  ].join("\r\n");
}

/**
 * Sends datagrams from a fresh socket and collects the responses until `done(responses)`
 * holds (checked as each response arrives and as the gateway's counters move).
 */
async function exchange(
  fx: Fixture,
  messages: (string | Uint8Array)[],
  done: (got: string[]) => boolean,
): Promise<string[]> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const got: string[] = [];
  const reading = (async () => {
    try {
      for (;;) got.push(dec.decode((await socket.receive())[0]));
    } catch (error) {
      // Closed below: a pending receive ends with BadResource or Interrupted.
      if (!(error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)) {
        throw error;
      }
    }
  })();
  for (const m of messages) {
    await socket.send(typeof m === "string" ? enc.encode(m) : m, {
      transport: "udp",
      hostname: "127.0.0.1",
      port: fx.port,
    });
  }
  try {
    await fx.waitFor(() => done(got) ? ({} as Call) : undefined, 30_000);
  } finally {
    socket.close();
    await reading;
  }
  return got;
}

const status = (r: string) => Number(r.slice(8, 11));
const isFinal = (r: string) => status(r) >= 200;
const callIdOf = (r: string) => /^Call-ID:\s*(\S+)/im.exec(r)?.[1];

Deno.test("security: an INVITE from an address that is no trunk gets 403, and a flood of them is rate-limited to drops", async () => {
  // The admission clock is frozen: strangers get a token bucket of 10 and no refill, so exactly
  // 10 of the 40 are answered however slowly a loaded machine pushes them through.
  const frozen = performance.now();
  await using fx = await startGateway({ sip: { trunks: [] }, now: () => frozen });
  const stats = fx.gateway.stats;
  // Done when all 40 were processed and every refusal that was answered has arrived.
  const got = await exchange(
    fx,
    Array.from({ length: 40 }, () => invite(fx.port)),
    (got) => stats.received >= 40 && got.length >= stats.rejected - stats.silenced,
  );
  const finals = got.filter((r) => status(r) >= 200);
  assert(finals.length >= 1 && finals.every((r) => status(r) === 403), got.join("\n"));
  assertEquals(finals.length, 10, "the bucket's burst is answered, the rest of the flood dropped");
  assertEquals(fx.events.length, 0);
});

Deno.test("security: malformed SIP, binary junk and oversized datagrams are dropped without a crash", async () => {
  await using fx = await startGateway();
  const junk = crypto.getRandomValues(new Uint8Array(1200));
  const huge = invite(fx.port, { extra: "X-Pad: " + "a".repeat(20_000) });
  const noCallId = invite(fx.port).replace(/^Call-ID:.*\r\n/m, "");
  const badFirst = "INVITE\r\n\r\n";
  const truncated = invite(fx.port).slice(0, 200);
  // Still serving: an OPTIONS sent after the junk is answered. One socket, read in order:
  // its answer also says every datagram before it was dealt with.
  const options = invite(fx.port, { callId: "after-the-junk" }).replace(/^INVITE/, "OPTIONS")
    .replace("CSeq: 1 INVITE", "CSeq: 1 OPTIONS");
  const sent = [junk, huge, noCallId, badFirst, truncated, "\r\n\r\n", options];
  const got = await exchange(fx, sent, (got) => got.some((r) => callIdOf(r) === "after-the-junk"));
  assertEquals(got.filter((r) => status(r) === 200).map(callIdOf), ["after-the-junk"]);
  assertEquals(fx.events.length, 0);
  assert(fx.gateway.stats.malformed + fx.gateway.stats.dropped >= 4);
});

Deno.test("security: an SDP bomb (thousands of lines, too many media sections) is refused with 488", async () => {
  await using fx = await startGateway({ sip: { maxMessageBytes: 65_535 } });
  const lines = Array.from({ length: 2000 }, (_, i) => `a=x-${i}:y`).join("\r\n");
  const bomb =
    `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${lines}\r\n`;
  const media = Array.from({ length: 20 }, () => "m=audio 4000 RTP/AVP 0").join("\r\n");
  const many =
    `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${media}\r\n`;
  const noCodec =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\n";
  for (const sdp of [bomb, many, noCodec]) {
    const got = await exchange(fx, [invite(fx.port, { sdp })], (got) => got.some(isFinal));
    assert(got.some((r) => status(r) === 488), got.join("\n"));
  }
  assertEquals(fx.gateway.activeLegs, 0);
});

Deno.test("security: an INVITE flood from a trunk gets 503 beyond the rate while a call already up is unharmed", async () => {
  // A frozen admission clock: the trunk's budget (5/s, its burst) does not refill during the
  // flood, so the count of 503s does not depend on how fast this machine sends.
  const frozen = performance.now();
  await using fx = await startGateway({ sip: { invitesPerSecond: 5 }, now: () => frozen });
  // One call up first.
  const up = await exchange(fx, [invite(fx.port)], (got) => got.some(isFinal));
  assert(up.some((r) => status(r) === 200), up.join("\n"));
  const sid = await fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status");
    return e?.type === "status" ? e.call : undefined;
  });
  // Done when each of the 60 INVITEs has its final response (503, or 200 when admitted).
  const flood = await exchange(
    fx,
    Array.from({ length: 60 }, () => invite(fx.port)),
    (got) => new Set(got.filter(isFinal).map(callIdOf)).size >= 60,
  );
  // The burst of 10 less the call already up leaves 9 admitted; the other 51 are refused.
  assertEquals(flood.filter((r) => status(r) === 503).length, 51, "503s beyond the trunk's burst");
  const call = await fx.calls.get(sid.sid);
  assert(call.status === "dialing" || call.status === "in_progress", call.status);
});
