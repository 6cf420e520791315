/**
 * Asking a webhook what to do with an inbound call (`sip.inbound[].action.webhook`).
 *
 * The gateway POSTs, as JSON:
 *
 * ```json
 * { "type": "inbound", "sid": "CA…", "from": "+14155550100", "to": "+14155550199", "call": { … } }
 * ```
 *
 * and follows the JSON object the webhook answers with (HTTP 2xx):
 *
 * | Answer                                            | What the gateway does                                   |
 * | ------------------------------------------------- | ------------------------------------------------------- |
 * | `{ "action": "client", "identity": "alice" }`     | 180 Ringing, rings the client; 200 OK when it accepts    |
 * | `{ "action": "agent", "agent": "support" }`       | 200 OK, then hands the call to the agent (transfer)      |
 * | `{ "action": "answer" }`                          | 200 OK; the call stays on the RTP path (uplink published,|
 * |                                                   | on-box VAD when enabled) for a bridge to attach later    |
 * | `{ "action": "reject", "status": 486 }`           | that SIP status (400–699) [603]; the call ends `rejected`|
 *
 * A webhook that does not answer within `sip.webhookTimeoutMs` gets the caller a
 * `480 Temporarily Unavailable`; a non-2xx, a body that is not JSON or not one of the
 * answers above gets a `500 Server Internal Error`. Either way the call ends `failed` with
 * end reason `gateway_error` and the SIP status.
 *
 * @module
 */
import type { GatewayCall } from "./calls_port.ts";
import { SipError } from "./error.ts";

/** What an inbound webhook may answer (see the module doc). */
export type InboundInstruction =
  | { readonly action: "client"; readonly identity: string }
  | { readonly action: "agent"; readonly agent: string }
  | { readonly action: "answer" }
  | { readonly action: "reject"; readonly status: number };

/** Options for {@linkcode askInboundWebhook}. */
export interface InboundWebhookOptions {
  /** How long to wait for the answer, ms. */
  readonly timeoutMs: number;
  /** The fetch to use [globalThis.fetch]. */
  readonly fetch?: typeof fetch;
}

/**
 * POSTs an inbound call to `url` and validates its instruction. Throws {@linkcode SipError}
 * 480 when the webhook times out and 500 when it fails or answers something invalid.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { askInboundWebhook } from "./inbound_webhook.ts";
 * const call = { sid: "CA1", from: "+14155550100", to: "+14155550199" };
 * // A stand-in for the customer's webhook: busy.
 * const webhook = () => Promise.resolve(Response.json({ action: "reject", status: 486 }));
 * const instruction = await askInboundWebhook("https://example.com/inbound", call, {
 *   timeoutMs: 5000,
 *   fetch: webhook,
 * });
 * assertEquals(instruction, { action: "reject", status: 486 });
 * ```
 */
export async function askInboundWebhook(
  url: string,
  call: GatewayCall,
  { timeoutMs, fetch: doFetch = fetch }: InboundWebhookOptions,
): Promise<InboundInstruction> {
  const signal = AbortSignal.timeout(timeoutMs);
  let body: unknown;
  try {
    const response = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "inbound", sid: call.sid, from: call.from, to: call.to, call }),
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new SipError(
        500,
        "Server Internal Error",
        `Inbound webhook failed: HTTP ${response.status}`,
      );
    }
    body = await response.json();
  } catch (error) {
    if (error instanceof SipError) throw error;
    if (signal.aborted) {
      throw new SipError(
        480,
        "Temporarily Unavailable",
        `Inbound webhook timed out after ${timeoutMs} ms`,
      );
    }
    throw new SipError(500, "Server Internal Error", `Inbound webhook failed: ${error}`);
  }
  return parseInstruction(body);
}

/**
 * Validates a webhook's answer (see the module doc); throws {@linkcode SipError} 500 on
 * anything else.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { SipError } from "./error.ts";
 * import { parseInstruction } from "./inbound_webhook.ts";
 * assertEquals(parseInstruction({ action: "client", identity: "alice" }), {
 *   action: "client",
 *   identity: "alice",
 * });
 * assertThrows(() => parseInstruction({ action: "dance" }), SipError, "Invalid inbound webhook answer");
 * ```
 */
export function parseInstruction(body: unknown): InboundInstruction {
  const invalid = (why: string) =>
    new SipError(500, "Server Internal Error", `Invalid inbound webhook answer: ${why}`);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("expected a JSON object");
  }
  const b = body as Record<string, unknown>;
  switch (b.action) {
    case "client":
      if (typeof b.identity !== "string" || !b.identity) throw invalid("missing identity");
      return { action: "client", identity: b.identity };
    case "agent":
      if (typeof b.agent !== "string" || !b.agent) throw invalid("missing agent");
      return { action: "agent", agent: b.agent };
    case "answer":
      return { action: "answer" };
    case "reject": {
      const status = b.status ?? 603;
      if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 699) {
        throw invalid("status must be an integer from 400 to 699");
      }
      return { action: "reject", status: status as number };
    }
    default:
      throw invalid(`unknown action ${JSON.stringify(b.action)}`);
  }
}
