/**
 * `Idempotency-Key` for mutating requests: the same key with the same request replays the
 * first response; the same key with a different request (method, path or body) is a 422
 * problem. The record is written in the same atomic store write as the request's effect,
 * so a crash never leaves an effect without its record or a record without its effect.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "./problem.ts";

/** The remembered outcome of a mutating request with an `Idempotency-Key`. */
export interface IdempotencyRecord {
  /** `<scope>:<key>`, the scope being the caller's identity or `"-"` when anonymous. */
  readonly key: string;
  /** SHA-256 (hex) of method, path and body: what "the same request" means. */
  readonly fingerprint: string;
  /** The HTTP status returned. */
  readonly status: number;
  /** The JSON body returned. */
  readonly body: unknown;
  readonly createdAt: string;
}

/** An `Idempotency-Key` already checked against the records: its record is written with the
 * request's effect, in the same atomic write. `status` is what the HTTP edge answers on
 * success (201 for a create), stored so that a repeated key replays the same answer. */
export interface IdempotencyClaim {
  readonly key: string;
  readonly fingerprint: string;
  readonly status: number;
}

/** A checked key before the route adds the status it answers with (see {@linkcode respond}). */
export type IdempotencyKeyClaim = Omit<IdempotencyClaim, "status">;

/**
 * Where the records are read (the calls store writes them with each effect). An
 * implementation MUST return the record committed for `key`, if any, and nothing else.
 */
export interface IdempotencyRecords {
  /** The record of `key`, if one was committed. */
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
}

/** A mutating request's answer: the HTTP status and the JSON body (replayed for a repeated key). */
export interface Outcome<T> {
  readonly status: number;
  readonly body: T;
}

/** The header. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";
/** Set on a replayed response. */
export const REPLAYED_HEADER = "Idempotent-Replayed";

const KEY = /^[\x21-\x7e]{1,255}$/;

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The variables this middleware sets on the context. */
export interface IdempotencyVariables {
  idempotency: IdempotencyKeyClaim | undefined;
}

/** Who the key belongs to: the authenticated subject when auth set one, else `-`. */
function scopeOf(c: Context): string {
  const auth = (c.var as Record<string, unknown>).auth as { subject?: unknown } | undefined;
  return typeof auth?.subject === "string" ? auth.subject : "-";
}

/**
 * The middleware: replays or rejects a repeated key; otherwise leaves the claim in
 * `c.var.idempotency` for the handler to pass to the service.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/calls", idempotency(store), handler);
 * ```
 */
export function idempotency(
  store: IdempotencyRecords,
): MiddlewareHandler<{ Variables: IdempotencyVariables }> {
  return async function idempotency(c, next) {
    const key = c.req.header(IDEMPOTENCY_HEADER);
    if (key === undefined) {
      c.set("idempotency", undefined);
      return await next();
    }
    if (!KEY.test(key)) {
      throw new ProblemError(
        400,
        "invalid-idempotency-key",
        "Idempotency-Key must be 1 to 255 visible ASCII characters",
      );
    }
    const body = await c.req.text();
    const claim: IdempotencyKeyClaim = {
      key: `${scopeOf(c)}:${key}`,
      fingerprint: await sha256Hex(`${c.req.method} ${c.req.path}\n${body}`),
    };
    const replay = await replayOf(store, claim);
    if (replay) return replay;
    c.set("idempotency", claim);
    await next();
  };
}

/**
 * Runs a mutating operation with the request's claim and answers `status` with its result
 * (the claim carries `status`, so a repeated key replays the same answer). When it fails
 * and a concurrent request with the same key committed meanwhile (the store refused this
 * one's record), answers with that one's outcome instead: the key's answer is the first
 * committed one.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/things", idempotency(store), (c) =>
 *   respond(store, c.var.idempotency, 201, (claim) => things.create(claim)));
 * ```
 */
export async function respond<T>(
  store: IdempotencyRecords,
  claim: IdempotencyKeyClaim | undefined,
  status: number,
  run: (claim: IdempotencyClaim | undefined) => Promise<T>,
): Promise<Response> {
  try {
    return outcomeResponse({ status, body: await run(claim && { ...claim, status }) });
  } catch (error) {
    if (!claim) throw error;
    const raced = await replayOf(store, claim);
    if (!raced) throw error;
    return raced;
  }
}

async function replayOf(
  store: IdempotencyRecords,
  claim: IdempotencyKeyClaim,
): Promise<Response | undefined> {
  const record = await store.getIdempotency(claim.key);
  if (!record) return undefined;
  if (record.fingerprint !== claim.fingerprint) {
    throw new ProblemError(
      422,
      "idempotency-key-reused",
      "This Idempotency-Key was used with a different request (method, path or body)",
    );
  }
  return new Response(JSON.stringify(record.body), {
    status: record.status,
    headers: { "content-type": "application/json", [REPLAYED_HEADER]: "true" },
  });
}

/** The JSON response for an outcome. */
export function outcomeResponse<T>(outcome: Outcome<T>): Response {
  return new Response(JSON.stringify(outcome.body), {
    status: outcome.status,
    headers: { "content-type": "application/json" },
  });
}
