/**
 * The Call-ID-indexed table of sip.js's user agent servers: the merged-request check it
 * speeds up still answers a forked duplicate INVITE with 482 (a raw UDP peer against a real
 * gateway), and the index follows every change of the map.
 */
import { assertEquals } from "@std/assert";
import { UasTable } from "../../src/sip/uas_table.ts";
import { PCMU_OFFER } from "./_fakes.ts";
import { startGateway } from "./_harness.ts";
import { firstLine, rawPeer } from "./_raw_peer.ts";

const uas = (callId: string) => ({ transaction: { request: { callId } } });

Deno.test("uas table: while receiving, values() are that Call-ID's servers; the index follows set, replace, delete and clear", () => {
  const table = new UasTable();
  const a1 = uas("a"), a2 = uas("a"), b = uas("b");
  table.set("1", a1).set("2", a2).set("3", b);
  const during = (callId: string) => table.receiving(callId, () => [...table.values()]);
  assertEquals(during("a"), [a1, a2]);
  assertEquals(during("b"), [b]);
  assertEquals(during("c"), []);
  assertEquals([...table.values()], [a1, a2, b]);
  // Nested receiving restores the outer Call-ID.
  assertEquals(table.receiving("a", () => [during("b").length, [...table.values()].length]), [
    1,
    2,
  ]);
  const b2 = uas("b");
  table.set("2", b2); // key 2 now serves Call-ID b
  assertEquals(during("a"), [a1]);
  assertEquals(during("b"), [b, b2]);
  table.delete("1");
  assertEquals(during("a"), []);
  assertEquals(table.delete("1"), false);
  table.clear();
  assertEquals([during("b"), table.size], [[], 0]);
  table.set("9", a1);
  assertEquals(during("a"), [a1]);
});

Deno.test("uas table: a forked copy of an INVITE (same From tag, Call-ID and CSeq, another branch) gets 482 Loop Detected; the original is served", async () => {
  using peer = rawPeer();
  await using fx = await startGateway();
  const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: fx.port };
  const id = crypto.randomUUID().slice(0, 8);
  const invite = (branch: string) =>
    [
      `INVITE sip:+14155550199@127.0.0.1:${fx.port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${branch};rport`,
      "Max-Forwards: 70",
      `From: <sip:+14155550100@127.0.0.1:${peer.port}>;tag=${id}`,
      `To: <sip:+14155550199@127.0.0.1:${fx.port}>`,
      `Call-ID: ${id}@127.0.0.1`,
      "CSeq: 1 INVITE",
      `Contact: <sip:+14155550100@127.0.0.1:${peer.port}>`,
      "Content-Type: application/sdp",
      `Content-Length: ${new TextEncoder().encode(PCMU_OFFER).length}`,
      "",
      PCMU_OFFER,
    ].join("\r\n");
  const answered = (branch: string) => (all: { text: string }[]) =>
    all.some((d) => d.text.includes(`branch=z9hG4bK${branch}`) && /^SIP\/2\.0 [2-6]/.test(d.text));
  await peer.send(invite(`${id}-1`), to);
  await peer.waitFor((all) => all.some((d) => d.text.includes(`z9hG4bK${id}-1`)), "a response");
  await peer.send(invite(`${id}-2`), to);
  await peer.waitFor(answered(`${id}-2`), "the forked copy's final response");
  const forked = peer.received.find((d) => answered(`${id}-2`)([d]))!;
  assertEquals(firstLine(forked), "SIP/2.0 482 Loop Detected");
  await peer.waitFor(answered(`${id}-1`), "the original's final response");
  const original = peer.received.find((d) => answered(`${id}-1`)([d]))!;
  assertEquals(firstLine(original).slice(0, 11), "SIP/2.0 200");
});
