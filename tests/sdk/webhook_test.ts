import { assertEquals } from "@std/assert";
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADERS } from "../../src/sdk/mod.ts";
import { WEBHOOK_HEADERS, WebhookSender } from "../../src/calls/webhook.ts";
import { OutboundUrlPolicy } from "../../src/calls/url_policy.ts";
import { createLogger } from "../../src/log/mod.ts";

Deno.test("verifyWebhook accepts the server's real deliveries and refuses tampered, stale, unsigned or wrongly keyed ones", async () => {
  const secret = "a webhook secret of thirty-two bytes or more";
  const received = Promise.withResolvers<{ headers: Headers; body: string }>();
  const verdicts: unknown[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  await using _server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
    async (request) => {
      const copy = request.clone();
      const verified = await verifyWebhook(request, secret);
      verdicts.push(verified);
      received.resolve({ headers: copy.headers, body: await copy.text() });
      return new Response(null, { status: verified.valid ? 204 : 401 });
    },
  );
  const { port } = await listening.promise;
  await using sender = new WebhookSender({
    secret,
    log: createLogger({ sink: () => {} }),
    maxAttempts: 1,
    policy: new OutboundUrlPolicy({ allowNetworks: ["127.0.0.0/8"] }),
  });
  const event = { type: "status", sid: "CA1", call: { sid: "CA1", status: "completed" } };
  await sender.send(`http://127.0.0.1:${port}/status`, "CA1", event);
  const { headers, body } = await received.promise;
  assertEquals(WEBHOOK_SIGNATURE_HEADERS, WEBHOOK_HEADERS, "the SDK and the server agree");
  assertEquals(verdicts, [{
    valid: true,
    event,
    delivery: headers.get(WEBHOOK_HEADERS.delivery),
  }]);

  const replay = (init: { body?: string; headers?: Record<string, string | null> }) => {
    const h = new Headers(headers);
    for (const [k, v] of Object.entries(init.headers ?? {})) v === null ? h.delete(k) : h.set(k, v);
    return new Request("http://receiver/status", {
      method: "POST",
      headers: h,
      body: init.body ?? body,
    });
  };
  const reason = async (request: Request, key = secret, now?: number) => {
    const verified = await verifyWebhook(request, key, { now });
    return verified.valid ? "valid" : verified.reason;
  };
  assertEquals(await reason(replay({})), "valid");
  assertEquals(
    await reason(replay({ body: body.replace("completed", "failed") })),
    "bad-signature",
  );
  assertEquals(
    await reason(replay({}), "another secret of thirty-two bytes or more"),
    "bad-signature",
  );
  assertEquals(
    await reason(replay({ headers: { [WEBHOOK_HEADERS.signature]: null } })),
    "missing-headers",
  );
  const sentAt = Number(headers.get(WEBHOOK_HEADERS.timestamp)) * 1000;
  assertEquals(await reason(replay({}), secret, sentAt + 301_000), "stale-timestamp");
  assertEquals(await reason(replay({}), secret, sentAt + 299_000), "valid");
});
