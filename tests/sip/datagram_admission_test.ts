import { assertEquals } from "@std/assert";
import { classifyDatagram, MalformedBudget } from "../../src/sip/datagram_admission.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("classifyDatagram: SIP requests and responses pass, junk and bad first lines do not", () => {
  assertEquals(classifyDatagram(bytes("INVITE sip:+1@127.0.0.1 SIP/2.0\r\nVia: x\r\n\r\n")), "sip");
  assertEquals(classifyDatagram(bytes("SIP/2.0 200 OK\r\n\r\n")), "sip");
  assertEquals(classifyDatagram(bytes("OPTIONS sip:a@b SIP/2.0\n\n")), "sip");
  assertEquals(classifyDatagram(bytes("\r\n\r\n")), "keepalive");
  assertEquals(classifyDatagram(bytes("\r\n")), "keepalive");
  for (
    const junk of [
      "",
      "INVITE\r\n\r\n",
      "invite sip:a@b SIP/2.0\r\n",
      "INVITE sip:a@b SIP/3.0\r\n",
      "SIP/2.0200 OK\r\n",
      "INVITE sip:a@b SIP/2.0", // no line end
      "GET / HTTP/1.1\r\n",
      "\r\nINVITE sip:a@b SIP/2.0\r\n",
      "OPTIONS sip:" + "a".repeat(2000) + " SIP/2.0\r\n", // first line past the bound
    ]
  ) assertEquals(classifyDatagram(bytes(junk)), "not_sip", JSON.stringify(junk.slice(0, 40)));
  assertEquals(
    classifyDatagram(crypto.getRandomValues(new Uint8Array(100)).fill(0x80, 0, 1)),
    "not_sip",
  );
});

Deno.test("MalformedBudget mutes a source after its burst, refills over time, and leaves others alone", () => {
  const budget = new MalformedBudget({
    perSourcePerSecond: 10,
    perSourceBurst: 3,
    totalPerSecond: 1e6,
  });
  for (let i = 0; i < 3; i++) {
    assertEquals(budget.admits("192.0.2.1", 0), true);
    budget.charge("192.0.2.1", 0);
  }
  assertEquals(budget.admits("192.0.2.1", 0), false);
  assertEquals(budget.admits("192.0.2.2", 0), true);
  assertEquals(budget.admits("192.0.2.1", 50), false); // half a token back
  assertEquals(budget.admits("192.0.2.1", 100), true); // one token back
});

Deno.test("MalformedBudget: when the shared budget is spent, only sources that sent good SIP are parsed", () => {
  const budget = new MalformedBudget({
    perSourcePerSecond: 1e6,
    perSourceBurst: 1e6,
    totalPerSecond: 5,
  });
  budget.trust("198.51.100.7", 0); // the trunk
  for (let i = 0; i < 5; i++) budget.charge(`203.0.113.${i}`, 0); // a spoofed spread
  assertEquals(budget.admits("203.0.113.99", 0), false);
  assertEquals(budget.admits("198.51.100.7", 0), true);
  assertEquals(budget.admits("203.0.113.99", 1000), true); // refilled
});
