import { assertEquals } from "@std/assert";
import { xdpInterfaceFor } from "../../ffi/xdp/interface.ts";

Deno.test("xdp interface: loopback and wildcard hosts map to lo, an interface address to its name", () => {
  assertEquals(xdpInterfaceFor("127.0.0.1"), "lo");
  assertEquals(xdpInterfaceFor("0.0.0.0"), "lo");
  const eth = Deno.networkInterfaces().find((i) => i.family === "IPv4" && i.name !== "lo");
  if (eth) assertEquals(xdpInterfaceFor(eth.address), eth.name);
  assertEquals(xdpInterfaceFor("203.0.113.77"), undefined); // TEST-NET-3: on no interface here
});
