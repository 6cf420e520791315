import { assertEquals } from "@std/assert";
import { startGateway } from "./_harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A UDP peer on loopback that sends raw SIP and collects what comes back. */
function peer() {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const got: string[] = [];
  const reading = (async () => {
    try {
      for (;;) got.push(dec.decode((await socket.receive())[0]));
    } catch { /* closed */ }
  })();
  return {
    port,
    got,
    send: (to: number, text: string) =>
      socket.send(enc.encode(text), { transport: "udp", hostname: "127.0.0.1", port: to }),
    async close() {
      socket.close();
      await reading;
    },
  };
}

function request(
  method: string,
  to: number,
  from: number,
  o: { branch: string; cseq: number; callId: string; toTag?: string; sdp?: string },
): string {
  const body = o.sdp ?? "";
  return [
    `${method} sip:+14155550199@127.0.0.1:${to} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=${o.branch};rport`,
    "Max-Forwards: 70",
    "From: <sip:+14155550100@127.0.0.1>;tag=caller",
    `To: <sip:+14155550199@127.0.0.1:${to}>${o.toTag ? `;tag=${o.toTag}` : ""}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq} ${method}`,
    `Contact: <sip:caller@127.0.0.1:${from}>`,
    ...(body ? ["Content-Type: application/sdp"] : []),
    `Content-Length: ${enc.encode(body).length}`,
    "",
    body,
  ].join("\r\n");
}

const status = (r: string) => Number(r.slice(8, 11));
const cseqMethod = (r: string) => /^CSeq:\s*\d+\s+(\w+)/im.exec(r)?.[1];

Deno.test("endpoint: a retransmitted BYE gets the same 200 OK again, not 481 (UDP timer J)", async () => {
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { plugin: "none" } }] },
  });
  const ua = peer();
  const callId = crypto.randomUUID();
  const sdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
  await ua.send(
    fx.port,
    request("INVITE", fx.port, ua.port, { branch: "z9hG4bKinv", cseq: 1, callId, sdp }),
  );
  const ok = await fx.waitFor(() =>
    ua.got.find((r) => status(r) === 200 && cseqMethod(r) === "INVITE") as never
  ) as unknown as string;
  const toTag = /^To:[^\r\n]*;tag=([^;\s]+)/im.exec(ok)![1];
  await ua.send(
    fx.port,
    request("ACK", fx.port, ua.port, { branch: "z9hG4bKack", cseq: 1, callId, toTag }),
  );
  const bye = request("BYE", fx.port, ua.port, { branch: "z9hG4bKbye", cseq: 2, callId, toTag });
  await ua.send(fx.port, bye);
  await fx.waitFor(() => ua.got.find((r) => cseqMethod(r) === "BYE") as never);
  // The caller missed our 200 and re-sends the BYE after the dialog is gone.
  await ua.send(fx.port, bye);
  await fx.waitFor(() =>
    ua.got.filter((r) => cseqMethod(r) === "BYE").length >= 2 ? {} as never : undefined
  );
  await ua.close();
  assertEquals(ua.got.filter((r) => cseqMethod(r) === "BYE").map(status), [200, 200]);
  assertEquals(fx.gateway.activeLegs, 0);
});
