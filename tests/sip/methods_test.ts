/**
 * `Allow` lists exactly the methods the gateway handles (RFC 3261 §20.5): what OPTIONS says,
 * what a 405 says, and that every method outside the list gets 405 (a raw UDP peer on the
 * trunk's address against a real gateway).
 */
import { assertEquals } from "@std/assert";
import { HANDLED_METHODS } from "../../src/sip/methods.ts";
import { startGateway } from "./_harness.ts";
import { header, rawPeer } from "./_raw_peer.ts";

function request(method: string, port: number, peerPort: number): { text: string; id: string } {
  const id = `${method.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`;
  const text = [
    `${method} sip:+14155550199@127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK${id};rport`,
    "Max-Forwards: 70",
    `From: <sip:+14155550100@127.0.0.1:${peerPort}>;tag=${id}`,
    `To: <sip:+14155550199@127.0.0.1:${port}>`,
    `Call-ID: ${id}@127.0.0.1`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:+14155550100@127.0.0.1:${peerPort}>`,
    "Content-Length: 0",
    "",
    "",
  ].join("\r\n");
  return { text, id };
}

const allowOf = (text: string) => header(text, "Allow").split(",").map((m) => m.trim());

Deno.test("methods: OPTIONS and every 405 list exactly the handled methods, and every method outside them gets 405", async () => {
  using peer = rawPeer();
  await using fx = await startGateway();
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  const answer = async (method: string) => {
    const { text, id } = request(method, fx.port, peer.port);
    await peer.send(text, to);
    await peer.waitFor(
      (all) => all.some((d) => d.text.includes(id) && /^SIP\/2\.0 [2-6]/.test(d.text)),
      `the answer to ${method}`,
    );
    return peer.received.find((d) => d.text.includes(id) && /^SIP\/2\.0 [2-6]/.test(d.text))!
      .text;
  };
  const options = await answer("OPTIONS");
  assertEquals(options.slice(0, 11), "SIP/2.0 200");
  assertEquals(allowOf(options), [...HANDLED_METHODS]);
  for (const method of ["MESSAGE", "SUBSCRIBE", "REFER", "PRACK", "REGISTER", "PUBLISH"]) {
    const refused = await answer(method);
    assertEquals(refused.slice(0, 11), "SIP/2.0 405", `${method}: ${refused.slice(0, 40)}`);
    assertEquals(allowOf(refused), [...HANDLED_METHODS], method);
  }
});
