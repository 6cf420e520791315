/**
 * Status callbacks: every call event is POSTed as JSON to the call's `statusCallback`,
 * signed with HMAC-SHA256 and retried with exponential backoff.
 *
 * Headers on each delivery:
 *
 * ```text
 * ClutchCall-Timestamp: 1767225600                       (Unix seconds)
 * ClutchCall-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 * ClutchCall-Delivery:  <id, the same on every retry of one event>
 * ```
 *
 * A receiver recomputes the HMAC over the raw body with {@linkcode verifyWebhook} and
 * rejects timestamps too far from its clock (replays).
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import { OutboundUrlPolicy, UrlRefusedError } from "./url_policy.ts";
import { metrics } from "../metrics/mod.ts";
import { backoffWait } from "./backoff_wait.ts";

/** Header names. */
export const WEBHOOK_HEADERS = Object.freeze({
  timestamp: "clutchcall-timestamp",
  signature: "clutchcall-signature",
  delivery: "clutchcall-delivery",
});

const encoder = new TextEncoder();

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The `ClutchCall-Signature` value for `body` sent at `timestamp` (Unix seconds).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { signWebhook } from "./webhook.ts";
 * const signature = await signWebhook("secret", 1767225600, '{"type":"status"}');
 * assertEquals(signature.startsWith("v1="), true);
 * ```
 */
export async function signWebhook(
  secret: string,
  timestamp: number,
  body: string,
): Promise<string> {
  return `v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

/**
 * Checks a delivery: the signature must match and the timestamp be within `toleranceSec`
 * of now. Compares in constant time.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { signWebhook, verifyWebhook } from "./webhook.ts";
 * const ts = Math.floor(Date.now() / 1000);
 * const headers = new Headers({ "clutchcall-timestamp": String(ts), "clutchcall-signature": await signWebhook("s", ts, "{}") });
 * assertEquals(await verifyWebhook("s", headers, "{}"), true);
 * ```
 */
export async function verifyWebhook(
  secret: string,
  headers: Headers,
  body: string,
  { toleranceSec = 300, now = Date.now() }: { toleranceSec?: number; now?: number } = {},
): Promise<boolean> {
  const timestamp = Number(headers.get(WEBHOOK_HEADERS.timestamp));
  const signature = headers.get(WEBHOOK_HEADERS.signature) ?? "";
  if (!Number.isSafeInteger(timestamp)) return false;
  if (Math.abs(now / 1000 - timestamp) > toleranceSec) return false;
  const expected = await signWebhook(secret, timestamp, body);
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) {
    diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  }
  return diff === 0;
}

/**
 * The webhook secret: `CLUTCHCALL_WEBHOOK_SECRET` when given, else the one in
 * `<dataDir>/webhook-secret`, created (32 random bytes, hex, mode 0600) on first use.
 *
 * @example
 * ```ts ignore
 * import { loadOrCreateWebhookSecret } from "./webhook.ts";
 * const secret = await loadOrCreateWebhookSecret("/var/lib/voice");
 * ```
 */
export async function loadOrCreateWebhookSecret(
  dataDir: string,
  configured?: string,
): Promise<string> {
  if (configured) return configured;
  const path = `${dataDir}/webhook-secret`;
  try {
    const existing = (await Deno.readTextFile(path)).trim();
    if (existing) return existing;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const secret = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  await Deno.writeTextFile(path, secret + "\n", { mode: 0o600 });
  return secret;
}

/** Options for a {@linkcode WebhookSender}. */
export interface WebhookSenderOptions {
  readonly secret: string;
  readonly log: Logger;
  /** Attempts per event, the first included [6]. */
  readonly maxAttempts?: number;
  /** Delay before the first retry, doubled on each next one, in ms [500]. */
  readonly baseDelayMs?: number;
  /** Cap on one delay, in ms [30000]. */
  readonly maxDelayMs?: number;
  /** Per-attempt timeout, in ms [10000]. */
  readonly timeoutMs?: number;
  /** Which addresses deliveries may reach, checked on every attempt and redirect [public only]. */
  readonly policy?: OutboundUrlPolicy;
}

/**
 * Delivers events to status callback URLs: in order per URL and call, each retried on a
 * network error, a timeout, 429 or 5xx (other 4xx are final), with full-jitter exponential
 * backoff. Deliveries live in memory: those pending when the process dies are lost.
 *
 * @example
 * ```ts ignore
 * import { WebhookSender } from "./webhook.ts";
 * await using sender = new WebhookSender({ secret, log });
 * sender.send("https://example.com/status", "CA1", { type: "status" });
 * ```
 */
export class WebhookSender implements AsyncDisposable {
  readonly #options: Required<WebhookSenderOptions>;
  readonly #queues = new Map<string, Promise<void>>();
  readonly #abort = new AbortController();

  /** Creates a sender. */
  constructor(
    {
      maxAttempts = 6,
      baseDelayMs = 500,
      maxDelayMs = 30_000,
      timeoutMs = 10_000,
      policy = new OutboundUrlPolicy(),
      ...rest
    }: WebhookSenderOptions,
  ) {
    this.#options = { maxAttempts, baseDelayMs, maxDelayMs, timeoutMs, policy, ...rest };
  }

  /** Queues `event` for `url`; resolves when delivered or given up on. */
  send(url: string, sid: string, event: unknown): Promise<void> {
    const key = `${sid} ${url}`;
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(url, event));
    this.#queues.set(key, next);
    next.finally(() => {
      if (this.#queues.get(key) === next) this.#queues.delete(key);
    });
    return next;
  }

  /** Resolves once every queued delivery finished. */
  async drain(): Promise<void> {
    while (this.#queues.size > 0) await Promise.allSettled([...this.#queues.values()]);
  }

  /** Stops retrying; in-flight attempts are aborted. */
  close(): void {
    this.#abort.abort();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.drain();
  }

  async #deliver(url: string, event: unknown): Promise<void> {
    const { secret, log, maxAttempts, baseDelayMs, maxDelayMs, timeoutMs, policy } = this.#options;
    const body = JSON.stringify(event);
    const delivery = crypto.randomUUID();
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.#abort.signal.aborted) return;
      const timestamp = Math.floor(Date.now() / 1000);
      let outcome: string;
      try {
        // Checked again on each attempt: the host may resolve elsewhere than when accepted.
        const response = await policy.fetch(url, {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            [WEBHOOK_HEADERS.timestamp]: String(timestamp),
            [WEBHOOK_HEADERS.signature]: await signWebhook(secret, timestamp, body),
            [WEBHOOK_HEADERS.delivery]: delivery,
          },
          signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.body?.cancel();
        if (response.ok) {
          metrics.webhooks.inc({ outcome: "delivered" });
          return;
        }
        outcome = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) {
          metrics.webhooks.inc({ outcome: "refused" });
          log.warn("Status callback refused", { url, status: response.status, delivery });
          return;
        }
      } catch (error) {
        if (error instanceof UrlRefusedError) {
          log.warn("Status callback refused by the URL policy", { url, reason: error.reason });
          return;
        }
        outcome = error instanceof Error ? error.message : String(error);
      }
      if (attempt === maxAttempts) {
        metrics.webhooks.inc({ outcome: "failed" });
        log.warn("Status callback failed, giving up", { url, attempts: attempt, outcome });
        return;
      }
      const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delay = cap / 2 + Math.random() * cap / 2;
      metrics.webhooks.inc({ outcome: "retried" });
      log.debug("Status callback failed, retrying", { url, attempt, outcome, delay });
      await backoffWait(delay, this.#abort.signal);
    }
  }
}
