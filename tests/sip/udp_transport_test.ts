import { assert, assertEquals } from "@std/assert";
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

/** Sends datagrams from `hostname` to `port`, one after the other. */
async function sendFrom(hostname: string, port: number, messages: (string | Uint8Array)[]) {
  const conn = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
  for (const m of messages) {
    await conn.send(typeof m === "string" ? new TextEncoder().encode(m) : m, {
      transport: "udp",
      hostname: "127.0.0.1",
      port,
    });
  }
  conn.close();
}

const OPTIONS = (tag: string) =>
  `OPTIONS sip:probe@127.0.0.1 SIP/2.0\r\nCall-ID: ${tag}\r\nContent-Length: 0\r\n\r\n`;

Deno.test("udp transport: oversized, non-SIP and keep-alive datagrams never reach the receiver; a source over its malformed budget is muted, others are not", async () => {
  const got: string[] = [];
  const drops: string[] = [];
  const marker = Promise.withResolvers<void>();
  await using socket = await listenSipUdp({
    host: "127.0.0.1",
    port: 0,
    maxBytes: 1000,
    budget: { perSourcePerSecond: 0.001, perSourceBurst: 3 },
    receive: (bytes, from) => {
      const text = new TextDecoder().decode(bytes);
      got.push(`${from.host} ${text.match(/Call-ID: (\S+)/)?.[1]}`);
      if (text.includes("Call-ID: last")) marker.resolve();
      return !text.includes("Call-ID: bad"); // the receiver found it malformed
    },
    onDrop: (reason, from) => drops.push(`${from.host} ${reason}`),
  });
  const attacker = "127.0.0.2";
  await sendFrom(attacker, socket.port, [
    OPTIONS("ok1"),
    "x".repeat(1500), // oversized
    "\r\n\r\n", // keep-alive
    crypto.getRandomValues(new Uint8Array(64)).fill(0x01, 0, 1), // junk: charged
    OPTIONS("bad1"), // malformed per the receiver: charged
    OPTIONS("bad2"), // charged: the budget (3) is spent
    OPTIONS("ok2"), // muted now, even though it is fine
  ]);
  await sendFrom("127.0.0.1", socket.port, [OPTIONS("last")]);
  await marker.promise;
  assertEquals(got, [
    "127.0.0.2 ok1",
    "127.0.0.2 bad1",
    "127.0.0.2 bad2",
    "127.0.0.1 last",
  ]);
  assertEquals(drops, [
    "127.0.0.2 oversized",
    "127.0.0.2 not_sip",
    "127.0.0.2 over_budget",
  ]);
});

Deno.test("udp transport: send reports false for an unreachable address, and closing twice is a no-op", async () => {
  const socket = await listenSipUdp({
    host: "127.0.0.1",
    port: 0,
    maxBytes: 100,
    receive: () => {},
  });
  assertEquals(await socket.send("x", { transport: "udp", host: "256.1.1.1", port: 5060 }), false);
  await socket.close();
  await socket.close();
  assert(!(await socket.send("x", { transport: "udp", host: "127.0.0.1", port: 5060 })));
});
