/**
 * spawnSippUas: sipp binds its own SIP port and the harness reads it back, so a port taken by
 * someone else (a test beside this one) cannot be handed to sipp.
 */
import { assert, assertEquals } from "@std/assert";
import { hangUp, haveSipp, originate, spawnSippUas, startGateway } from "./_harness.ts";

/** Binds each of `ports` on 127.0.0.1 that is free now; the ones held are returned. */
function hold(ports: number[], transport: "udp" | "tcp"): (Deno.DatagramConn | Deno.Listener)[] {
  const held = [];
  for (const port of ports) {
    try {
      held.push(
        transport === "udp"
          ? Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port })
          : Deno.listen({ hostname: "127.0.0.1", port }),
      );
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  return held;
}

const portOf = (s: Deno.DatagramConn | Deno.Listener) => (s.addr as Deno.NetAddr).port;

for (const transport of ["udp", "tcp"] as const) {
  Deno.test(`spawnSippUas (${transport}): with the first ports sipp tries held by another socket, sipp binds another one, the harness reports that one, and a call to it completes`, async () => {
    if (!haveSipp()) return;
    // sipp's -p 0 tries 5060, 5061, …: hold the first few (those already in use are taken too).
    const held = hold([5060, 5061, 5062], transport);
    try {
      await using peer = await spawnSippUas(["-sn", "uas", "-m", "1"], { transport });
      assert(!held.map(portOf).includes(peer.port), `sipp's port ${peer.port} is held`);
      // A call through a trunk at that port completes: sipp, not the holder, answers there.
      const trunk = { name: "loop", address: `127.0.0.1:${peer.port}`, transport };
      const sip = { transports: ["udp", "tcp"], trunks: [{ ...trunk, outboundNumbers: ["+1"] }] };
      await using fx = await startGateway({ sip });
      const ended = await hangUp(fx, (await originate(fx)).sid);
      assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
      assertEquals((await peer.done).code, 0, "sipp saw the whole call");
    } finally {
      for (const socket of held) socket.close();
    }
  });
}
