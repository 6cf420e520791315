import { assert, assertEquals } from "@std/assert";
import { VoiceApiError } from "../../src/sdk/mod.ts";
import { verifyWebhook } from "../../src/calls/webhook.ts";
import { eventually, startServer } from "./_server.ts";
import { waitFor } from "../_lib/wait.ts";

const P = "https://clutchcall.dev/problems/";
const ORIGINATE = { from: "+14155550100", to: "client:carol" };

async function problem(response: Response) {
  assertEquals(response.headers.get("content-type"), "application/problem+json");
  return await response.json();
}

function post(body: string, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", body, headers: { "content-type": "application/json", ...headers } };
}

Deno.test("each bad input is a precise problem response and writes nothing", async () => {
  await using fx = await startServer();
  const cases: [string, RequestInit, number, string][] = [
    ["/v1/calls", post("{not json"), 400, "invalid-json"],
    ["/v1/calls", post(JSON.stringify({ ...ORIGINATE, colour: "red" })), 422, "validation-failed"],
    ["/v1/calls", post(JSON.stringify({ ...ORIGINATE, to: "+0123" })), 422, "validation-failed"],
    ["/v1/calls", post(JSON.stringify({ ...ORIGINATE, to: "555-1234" })), 422, "validation-failed"],
    ["/v1/calls", post(JSON.stringify({ from: "+14155550100" })), 422, "validation-failed"],
    [
      "/v1/calls",
      {
        method: "POST",
        body: "to=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      },
      415,
      "unsupported-media-type",
    ],
    [
      "/v1/calls",
      post(JSON.stringify({ ...ORIGINATE, from: "x".repeat(70_000) })),
      413,
      "payload-too-large",
    ],
    [
      "/v1/calls",
      post(JSON.stringify(ORIGINATE), { "idempotency-key": "" }),
      400,
      "invalid-idempotency-key",
    ],
    ["/v1/calls/CAnope", {}, 404, "not-found"],
    ["/v1/calls/CAnope/hangup", { method: "POST" }, 404, "not-found"],
    ["/v1/calls/bad%20sid", {}, 404, "not-found"],
    ["/v1/calls?status=bogus", {}, 400, "validation-failed"],
    ["/v1/calls?cursor=zzz", {}, 400, "invalid-cursor"],
    ["/v1/calls?limit=1000", {}, 400, "validation-failed"],
  ];
  for (const [path, init, status, type] of cases) {
    const response = await fx.fetch(path, init);
    const body = await problem(response);
    assertEquals([response.status, body.type], [status, P + type], `${path} ${init.body ?? ""}`);
  }
  const unknown = await problem(
    await fx.fetch("/v1/calls", post(JSON.stringify({ ...ORIGINATE, colour: "red" }))),
  );
  assertEquals(unknown.errors, [{ path: "(root)", message: "Unknown field: colour" }]);
  // Transfer: both or neither of to/agent.
  const voice = await fx.voice();
  const call = await voice.calls.originate({ from: "+14155550100", to: "+442071838750" });
  for (const body of [{}, { to: "client:a", agent: "x" }, { to: "nope" }]) {
    const r = await fx.fetch(`/v1/calls/${call.sid}/transfer`, post(JSON.stringify(body)));
    assertEquals(r.status, 422, JSON.stringify(body));
    await r.body?.cancel();
  }
  // Nothing was written by the refused requests: only the one call exists.
  assertEquals((await voice.calls.list()).calls.map((c) => c.sid), [call.sid]);
  // Without a token: 401 problem, from the auth middleware in front of the API.
  const anonymous = await fetch(`${fx.url}/v1/calls`);
  assertEquals(anonymous.status, 401);
  await anonymous.body?.cancel();
});

Deno.test("Idempotency-Key: same key and body replay the first response; another body is rejected", async () => {
  await using fx = await startServer();
  await (await fx.voice()).clients.add("dave"); // so the call rings and can be hung up
  const body = JSON.stringify({ from: "+14155550100", to: "client:dave" });
  const first = await fx.fetch("/v1/calls", post(body, { "idempotency-key": "k1" }));
  assertEquals(first.status, 201);
  const call = await first.json();
  const again = await fx.fetch("/v1/calls", post(body, { "idempotency-key": "k1" }));
  assertEquals(again.status, 201);
  assertEquals(again.headers.get("idempotent-replayed"), "true");
  assertEquals((await again.json()).sid, call.sid);
  const other = await fx.fetch(
    "/v1/calls",
    post(JSON.stringify({ from: "+14155550100", to: "client:eve" }), { "idempotency-key": "k1" }),
  );
  assertEquals(other.status, 422);
  assertEquals((await problem(other)).type, P + "idempotency-key-reused");
  // Concurrent duplicates create one call.
  const racers = await Promise.all(
    Array.from({ length: 8 }, () => fx.fetch("/v1/calls", post(body, { "idempotency-key": "k2" }))),
  );
  const sids = new Set(await Promise.all(racers.map(async (r) => (await r.json()).sid)));
  assertEquals(sids.size, 1);
  assertEquals(racers.every((r) => r.status === 201), true);
  // Hangup with a key: replayed 200 the second time, not a 409.
  const h1 = await fx.fetch(`/v1/calls/${call.sid}/hangup`, {
    method: "POST",
    headers: { "idempotency-key": "h" },
  });
  const h2 = await fx.fetch(`/v1/calls/${call.sid}/hangup`, {
    method: "POST",
    headers: { "idempotency-key": "h" },
  });
  assertEquals([h1.status, h2.status], [200, 200]);
  assertEquals((await h1.json()).status, "completed");
  assertEquals((await h2.json()).status, "completed");
  const total = (await (await fx.voice()).calls.list()).calls.length;
  assertEquals(total, 2);
});

Deno.test("status callbacks are HMAC-signed, retried with backoff, and match the SSE events", async () => {
  const secret = "test-webhook-secret-0123456789abcdef";
  const received: { event: { type: string; call?: { status: string } }; ok: boolean }[] = [];
  let failuresLeft = 2; // the first two deliveries get a 503
  await using receiver = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    async (req) => {
      const raw = await req.text();
      const ok = await verifyWebhook(secret, req.headers, raw);
      if (failuresLeft-- > 0) return new Response("busy", { status: 503 });
      received.push({ event: JSON.parse(raw), ok });
      return new Response(null, { status: 204 });
    },
  );
  // The receiver is on loopback, which status callbacks may reach only when the config says so.
  await using fx = await startServer({ CLUTCHCALL_WEBHOOK_SECRET: secret }, undefined, {
    webhooks: { allowNetworks: ["127.0.0.0/8"] },
  });
  const voice = await fx.voice();
  await voice.clients.add("frank");
  const call = await voice.calls.originate({
    from: "+14155550100",
    to: "client:frank",
    statusCallback: `http://127.0.0.1:${receiver.addr.port}/status`,
  });
  const sse: string[] = [];
  const watching = (async () => {
    for await (const e of voice.calls.events(call.sid)) {
      if (e.type === "status") sse.push(e.call.status);
    }
  })();
  await eventually(async () => (await voice.calls.get(call.sid)).status === "ringing" || undefined);
  await voice.calls.answer(call.sid);
  await voice.calls.transfer(call.sid, { agent: "support-bot" });
  await voice.calls.hangup(call.sid);
  await watching;
  const statuses = await eventually(
    () => {
      const s = received.filter((r) => r.event.type === "status").map((r) => r.event.call!.status);
      return Promise.resolve(s.length === 4 ? s : undefined);
    },
    10_000,
    "4 status callbacks",
  );
  assertEquals(statuses, ["dialing", "ringing", "in_progress", "completed"]);
  assert(received.some((r) => r.event.type === "transfer"));
  assert(received.every((r) => r.ok), "every delivery verifies");
  assertEquals(sse.slice(-3), ["ringing", "in_progress", "completed"]);
  // A forged signature does not verify.
  const headers = new Headers({
    "clutchcall-timestamp": String(Math.floor(Date.now() / 1000)),
    "clutchcall-signature": "v1=" + "0".repeat(64),
  });
  assertEquals(await verifyWebhook(secret, headers, "{}"), false);
});

Deno.test("list filters by status, direction and time, and pages with a cursor", async () => {
  await using fx = await startServer();
  const voice = await fx.voice();
  const sids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const call = await voice.calls.originate({ from: "+14155550100", to: "+442071838750" });
    sids.push(call.sid);
    // The time filters below need distinct creation times: the next call after the clock moved.
    await waitFor(
      "the clock to pass the call's creation",
      () => Date.now() > Date.parse(call.createdAt),
    );
  }
  await eventually(async () =>
    (await voice.calls.list({ status: "failed" })).calls.length === 7 || undefined
  );
  const page1 = await voice.calls.list({ limit: 3 });
  assertEquals(page1.calls.map((c) => c.sid), sids.slice(-3).reverse());
  const page2 = await voice.calls.list({ limit: 3, cursor: page1.nextCursor });
  assertEquals(page2.calls.map((c) => c.sid), sids.slice(1, 4).reverse());
  const all = [];
  for await (const c of voice.calls.all({ limit: 2 })) all.push(c.sid);
  assertEquals(all, [...sids].reverse());
  assertEquals((await voice.calls.list({ status: "in_progress" })).calls, []);
  assertEquals((await voice.calls.list({ direction: "inbound" })).calls, []);
  const t = (await voice.calls.get(sids[3])).createdAt;
  const after = await voice.calls.list({ createdAfter: t });
  assertEquals(after.calls.map((c) => c.sid), sids.slice(3).reverse());
  const before = await voice.calls.list({ createdBefore: t });
  assertEquals(before.calls.map((c) => c.sid), sids.slice(0, 3).reverse());
  // The SDK surfaces problems as VoiceApiError.
  try {
    await voice.calls.hangup(sids[0]);
    throw new Error("expected a 409");
  } catch (error) {
    assert(error instanceof VoiceApiError);
    assertEquals([error.status, error.code], [409, "illegal-transition"]);
  }
});

Deno.test("GET /openapi.json describes every route from the validating schemas", async () => {
  await using fx = await startServer();
  const doc = await (await fetch(`${fx.url}/openapi.json`)).json();
  assertEquals(doc.openapi, "3.1.0");
  for (
    const path of [
      "/v1/calls",
      "/v1/calls/{sid}",
      "/v1/calls/{sid}/hangup",
      "/v1/calls/{sid}/transfer",
      "/v1/calls/{sid}/events",
      "/v1/clients/{identity}/register",
      "/v1/clients/{identity}/incoming",
    ]
  ) assert(doc.paths[path], path);
  assertEquals(doc.components.schemas.OriginateRequest.additionalProperties, false);
  assert(doc.components.schemas.Call.properties.status.enum.includes("no_answer"));
});
