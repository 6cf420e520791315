/**
 * A malformed-SIP flood, run as its own process so its CPU is not the server's:
 * `deno run -A --unstable-net tests/sip/_sip_flood.ts <port> <count> <rate>`. Sends
 * `count` datagrams from 127.0.0.2 to 127.0.0.1:<port> at about `rate` per second — half
 * random bytes, half an OPTIONS with bytes flipped (what a mutation fuzzer sends) — then
 * prints the number sent.
 *
 * @module
 */
const [port, count, rate] = Deno.args.map(Number);
const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
const to = { transport: "udp" as const, hostname: "127.0.0.1", port };
const options = new TextEncoder().encode(
  `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0\r\n` +
    "Via: SIP/2.0/UDP 127.0.0.2:5070;branch=z9hG4bKflood\r\n" +
    "From: <sip:a@127.0.0.2>;tag=1\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: flood@x\r\n" +
    "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
);
const start = performance.now();
let sent = 0;
while (sent < count) {
  const due = Math.min(count, Math.floor((performance.now() - start) * rate / 1000) + 1);
  const batch: Promise<number>[] = [];
  for (; sent < due; sent++) {
    let bytes: Uint8Array;
    if (sent % 2 === 0) bytes = crypto.getRandomValues(new Uint8Array(100 + (sent % 1000)));
    else {
      bytes = options.slice();
      for (let k = 0; k < 4; k++) {
        bytes[50 + ((sent * 7919 + k * 104729) % (bytes.length - 50))] ^= 0x5a;
      }
    }
    batch.push(conn.send(bytes, to));
  }
  await Promise.all(batch);
  await new Promise((r) => setTimeout(r, 1));
}
conn.close();
console.log(sent);
