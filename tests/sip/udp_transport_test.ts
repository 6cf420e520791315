import { assertEquals } from "@std/assert";
import dgram from "node:dgram";
import { listenSipUdp } from "../../src/sip/udp_transport.ts";

Deno.test("udp transport: a burst of sends leaves in call order (a re-sent 100 Trying never overtakes the 200 OK)", async () => {
  const rx = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => rx.bind(0, "127.0.0.1", () => resolve()));
  const got: number[] = [];
  const all = Promise.withResolvers<void>();
  rx.on("message", (message: Uint8Array) => {
    got.push(Number(new TextDecoder().decode(message)));
    if (got.length === 400) all.resolve();
  });
  await using tx = await listenSipUdp({
    host: "127.0.0.1",
    port: 0,
    maxBytes: 8192,
    receive: () => {},
  });
  const to = { transport: "udp" as const, host: "127.0.0.1", port: rx.address().port };
  const sent: Promise<boolean>[] = [];
  for (let burst = 0; burst < 20; burst++) {
    for (let i = 0; i < 20; i++) sent.push(tx.send(String(burst * 20 + i), to));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assertEquals((await Promise.all(sent)).every(Boolean), true);
  await all.promise;
  rx.close();
  assertEquals(got, [...got].sort((a, b) => a - b), "datagrams arrived in the order sent");
});
