/**
 * `to: "sip:…"` goes through a configured trunk (or a host in `sip.allowDirectSip`), never to
 * an arbitrary host given by the API caller: a real server with a SIP gateway, real UDP
 * sockets standing in for the trunk and for an allowed host, and real HTTP.
 */
import { assert, assertEquals, assertThrows } from "@std/assert";
import { parseSipConfig } from "../../src/sip/config.ts";
import { startServer } from "./_server.ts";

async function firstRequestLine(socket: Deno.DatagramConn): Promise<string> {
  const [data] = await socket.receive();
  return new TextDecoder().decode(data).split("\r\n")[0];
}

Deno.test("a sip: destination must be a trunk or an allowed host; others are refused with 422", async () => {
  const trunk = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const direct = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.2", port: 0 });
  using _sockets = { [Symbol.dispose]: () => (trunk.close(), direct.close()) };
  const trunkPort = (trunk.addr as Deno.NetAddr).port;
  const directPort = (direct.addr as Deno.NetAddr).port;
  await using fx = await startServer({}, undefined, {
    sip: {
      listen: { host: "127.0.0.1", port: 0 },
      trunks: [{
        name: "loop",
        address: `127.0.0.1:${trunkPort}`,
        allowFrom: ["127.0.0.1"],
        outboundNumbers: ["+1"],
      }],
      allowDirectSip: ["127.0.0.2"],
    },
  });
  const originate = (to: string) =>
    fx.fetch("/v1/calls", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "+14155550100", to }),
    });

  for (const to of ["sip:bob@198.51.100.7", "sip:bob@127.0.0.1:1", "sip:bob@127.0.0.3"]) {
    const refused = await originate(to);
    assertEquals(refused.status, 422, to);
    const problem = await refused.json();
    assertEquals(problem.type, "https://clutchcall.dev/problems/destination-not-allowed", to);
    assert(problem.detail.includes("allowDirectSip"), problem.detail);
  }
  assertEquals((await (await fx.fetch("/v1/calls")).json()).calls, [], "no call was created");

  const viaTrunk = await originate(`sip:bob@127.0.0.1:${trunkPort}`);
  assertEquals(viaTrunk.status, 201);
  const dialing = await viaTrunk.json();
  assertEquals(
    await firstRequestLine(trunk),
    `INVITE sip:bob@127.0.0.1:${trunkPort} SIP/2.0`,
    "the trunk got the INVITE",
  );
  // The trunk has not answered: POST /answer is for calls ringing a client, so an outbound
  // SIP call still dialing is a 409, not a fake in_progress.
  const answer = await fx.fetch(`/v1/calls/${dialing.sid}/answer`, { method: "POST" });
  assertEquals(answer.status, 409);
  assertEquals((await answer.json()).currentStatus, "dialing");
  assertEquals((await (await fx.fetch(`/v1/calls/${dialing.sid}`)).json()).status, "dialing");
  const allowed = await originate(`sip:carol@127.0.0.2:${directPort}`);
  assertEquals(allowed.status, 201);
  await allowed.body?.cancel();
  assertEquals(await firstRequestLine(direct), `INVITE sip:carol@127.0.0.2:${directPort} SIP/2.0`);

  // A transfer to a host nobody allowed is refused the same way, before anything changes.
  const voice = await fx.voice();
  await voice.clients.add("alice");
  const call = await voice.calls.originate({ from: "+14155550100", to: "client:alice" });
  for await (const event of voice.calls.events(call.sid)) {
    if (event.type === "status" && event.call.status === "ringing") break;
  }
  await voice.calls.answer(call.sid);
  const transfer = await fx.fetch(`/v1/calls/${call.sid}/transfer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ to: "sip:mallory@198.51.100.7" }),
  });
  assertEquals(transfer.status, 422);
  await transfer.body?.cancel();
  assertEquals((await voice.calls.get(call.sid)).transfers, []);
});

Deno.test("sip.allowDirectSip takes hosts only", () => {
  assertEquals(parseSipConfig({ allowDirectSip: ["PBX.example", "[::1]"] }).allowDirectSip, [
    "pbx.example",
    "::1",
  ]);
  assertEquals(parseSipConfig({}).allowDirectSip, []);
  assertThrows(() => parseSipConfig({ allowDirectSip: ["pbx.example:5060"] }), TypeError, "port");
  assertThrows(() => parseSipConfig({ allowDirectSip: "pbx.example" }), TypeError);
});
