import { assertEquals, assertThrows } from "@std/assert";
import { inetBytes, inetText, isIpv6 } from "../../../src/rtp/engine/inet_address.ts";

Deno.test("inet address: IPv4 and its mapped form are the same 16 bytes", () => {
  assertEquals(inetBytes("127.0.0.1"), inetBytes("::ffff:127.0.0.1"));
  assertEquals(inetText(inetBytes("::ffff:127.0.0.1")), "127.0.0.1");
  assertEquals(isIpv6("::ffff:127.0.0.1"), false);
  assertEquals(isIpv6("127.0.0.1"), false);
});

Deno.test("inet address: IPv6 round-trips to Deno's compact text", () => {
  for (const text of ["::1", "::", "2001:db8::1", "fe80::1:2", "64:ff9b::c000:201"]) {
    assertEquals(inetText(inetBytes(text)), text);
    assertEquals(isIpv6(text), true);
  }
  assertEquals(inetText(inetBytes("2001:DB8:0:0:0:0:0:1")), "2001:db8::1");
});

Deno.test("inet address: writes into the given buffer", () => {
  const out = new Uint8Array(16);
  assertEquals(inetBytes("::2", out), out);
  assertEquals(out[15], 2);
});

Deno.test("inet address: a hostname that is not a literal is a TypeError", () => {
  for (const bad of ["localhost", "[::1]", "1.2.3", "::g", ""]) {
    assertThrows(() => inetBytes(bad), TypeError, "Invalid IP address");
  }
});
