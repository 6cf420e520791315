/**
 * Verifying status webhooks on the receiving side (like Twilio's `validateRequest`).
 *
 * Every delivery is a `POST` with a JSON body and three headers:
 *
 * | header                 | value                                                           |
 * | ---------------------- | --------------------------------------------------------------- |
 * | `clutchcall-timestamp` | Unix time of this attempt, in seconds                           |
 * | `clutchcall-signature` | `v1=` + hex HMAC-SHA256(secret, `<timestamp>.<raw body>`)       |
 * | `clutchcall-delivery`  | one id per event, the same on every retry (deduplicate on it)   |
 *
 * The secret is the server's webhook secret (`CLUTCHCALL_WEBHOOK_SECRET`, or the one it wrote to
 * `<data-dir>/webhook-secret`). Only WebCrypto and `fetch` types: runs in Deno, Node and browsers.
 *
 * @module
 */

/**
 * The header names of a webhook delivery.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { WEBHOOK_SIGNATURE_HEADERS } from "@clutchcall/voice/sdk";
 * assertEquals(WEBHOOK_SIGNATURE_HEADERS.signature, "clutchcall-signature");
 * ```
 */
export const WEBHOOK_SIGNATURE_HEADERS: {
  readonly timestamp: "clutchcall-timestamp";
  readonly signature: "clutchcall-signature";
  readonly delivery: "clutchcall-delivery";
} = Object.freeze({
  timestamp: "clutchcall-timestamp",
  signature: "clutchcall-signature",
  delivery: "clutchcall-delivery",
});

/** Options for {@linkcode verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** How far the timestamp may be from now, in seconds (replay window) [300]. */
  readonly toleranceSec?: number;
  /** "Now", in ms since the epoch [Date.now()]. */
  readonly now?: number;
}

/** The outcome of {@linkcode verifyWebhook}. */
export type WebhookVerification<E = unknown> =
  | {
    /** The signature matches and the timestamp is recent. */
    readonly valid: true;
    /** The delivered event (the parsed body). */
    readonly event: E;
    /** The delivery id (the same on every retry of this event). */
    readonly delivery: string | undefined;
  }
  | {
    /** The request is not a genuine, recent delivery: answer it 401 and ignore it. */
    readonly valid: false;
    /** Why, for logs. */
    readonly reason: "missing-headers" | "stale-timestamp" | "bad-signature" | "bad-body";
  };

const encoder = new TextEncoder();

/**
 * Checks that `request` is a genuine, recent webhook from the server: its signature is the
 * HMAC of its timestamp and raw body under `secret` (compared in constant time) and its
 * timestamp is within `toleranceSec` of now. Reads the body; on success hands back the parsed
 * event.
 *
 * @example
 * ```ts ignore
 * import { verifyWebhook } from "@clutchcall/voice/sdk";
 *
 * Deno.serve(async (request) => {
 *   const verified = await verifyWebhook(request, Deno.env.get("CLUTCHCALL_WEBHOOK_SECRET")!);
 *   if (!verified.valid) return new Response(verified.reason, { status: 401 });
 *   console.log(verified.event); // { type: "status", sid: "CA…", call: { … } }
 *   return new Response(null, { status: 204 });
 * });
 * ```
 */
export async function verifyWebhook<E = unknown>(
  request: Request,
  secret: string,
  { toleranceSec = 300, now = Date.now() }: VerifyWebhookOptions = {},
): Promise<WebhookVerification<E>> {
  const timestampText = request.headers.get(WEBHOOK_SIGNATURE_HEADERS.timestamp);
  const signature = request.headers.get(WEBHOOK_SIGNATURE_HEADERS.signature);
  const body = await request.text();
  if (!timestampText || !signature || !/^\d{1,12}$/.test(timestampText)) {
    return { valid: false, reason: "missing-headers" };
  }
  const timestamp = Number(timestampText);
  if (Math.abs(now / 1000 - timestamp) > toleranceSec) {
    return { valid: false, reason: "stale-timestamp" };
  }
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${body}`)),
  );
  const expected = `v1=${Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  if (!constantTimeEqual(expected, signature)) return { valid: false, reason: "bad-signature" };
  let event: E;
  try {
    event = JSON.parse(body);
  } catch (error) {
    // Signed but not JSON: the server never sends that; say so rather than throw.
    if (error instanceof SyntaxError) return { valid: false, reason: "bad-body" };
    throw error;
  }
  return {
    valid: true,
    event,
    delivery: request.headers.get(WEBHOOK_SIGNATURE_HEADERS.delivery) ?? undefined,
  };
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
