import { assertEquals } from "@std/assert";
import { boundSockets } from "./bound_ports.ts";

Deno.test("boundSockets: a child's UDP socket and TCP listener are found with their ports; an exited process has none", async () => {
  // A child that binds one UDP and one TCP socket on loopback (ports of its own choosing) and
  // waits on stdin: the ports it prints are what /proc must report.
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const u = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
       const t = Deno.listen({ hostname: "127.0.0.1", port: 0 });
       console.log(u.addr.port, t.addr.port);
       for await (const _ of Deno.stdin.readable) break;`,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const [udp, tcp] = (await reader.read()).value!.trim().split(" ").map(Number);
  const udpSockets = await boundSockets(child.pid, "udp");
  const tcpSockets = await boundSockets(child.pid, "tcp");
  assertEquals(udpSockets.map((s) => [s.host, s.port]), [["127.0.0.1", udp]]);
  assertEquals(tcpSockets.map((s) => [s.host, s.port]), [["127.0.0.1", tcp]]);
  await child.stdin.close();
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.status;
  assertEquals(await boundSockets(child.pid, "udp"), []);
});
