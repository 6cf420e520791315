/**
 * DTMF through the public surfaces: `POST /v1/calls/{sid}/digits` over real HTTP and the
 * SDK's `sendDigits` put RFC 4733 events on the RTP leg to a real sipp; sipp's RTP echo sends
 * them straight back, and the gateway's telephone-event receiver turns them into `dtmf`
 * call events. A digit seen there therefore went out as RFC 4733 and reached sipp.
 */
import { assertEquals } from "@std/assert";
import { createCallsApi } from "../../src/calls/api.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { Voice } from "../../src/sdk/mod.ts";
import {
  callerArgs,
  haveSipp,
  scenario,
  spawnSipp,
  startGateway,
  waitForStatus,
} from "./_harness.ts";

Deno.test("dtmf: digits posted over HTTP and sent with the SDK's sendDigits reach sipp as RFC 4733 and come back as dtmf events", async () => {
  if (!haveSipp()) return;
  await using fx = await startGateway({
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  const app = createCallsApi({ calls: fx.calls });
  await using http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const baseUrl = `http://127.0.0.1:${http.addr.port}`;

  await using peer = spawnSipp(
    callerArgs(fx.port, ["-sf", scenario("uac_echo.xml"), "-d", "4000", "-rtp_echo"]),
  );
  const call = await waitForStatus(fx, "in_progress");
  const digits = () =>
    fx.events.filter((e) => e.type === "dtmf" && e.sid === call.sid).map((e) =>
      (e as { digits: string }).digits
    );

  // The HTTP API, as any client would call it.
  const response = await fetch(`${baseUrl}/v1/calls/${call.sid}/digits`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify({ digits: "1*" }),
  });
  const body = await response.json();
  assertEquals(response.status, 200, JSON.stringify(body));
  assertEquals([body.sid, body.status], [call.sid, "in_progress"]);
  await fx.waitFor(() => digits().length >= 2 ? call : undefined);

  // The SDK over the same HTTP server.
  const voice = new Voice({ baseUrl });
  const returned = await voice.calls.sendDigits(call.sid, "9#");
  assertEquals(returned.sid, call.sid);
  await fx.waitFor(() => digits().length >= 4 ? call : undefined);

  assertEquals(digits(), ["1", "*", "9", "#"]);
  const out = await peer.done;
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
});
