/**
 * RFC 9457 problem details: every error the Calls API returns is
 * `application/problem+json` with a `type` URI naming the problem precisely.
 *
 * @module
 */
import { PROBLEM_BASE, type ProblemDetails } from "../api/problem.ts";

export { PROBLEM_BASE, type ProblemDetails };

/** The problem types this API uses, relative to {@linkcode PROBLEM_BASE}. */
export type ProblemType =
  | "invalid-json"
  | "unsupported-media-type"
  | "validation-failed"
  | "invalid-cursor"
  | "not-found"
  | "method-not-allowed"
  | "illegal-transition"
  | "idempotency-key-reused"
  | "idempotency-key-in-use"
  | "invalid-idempotency-key"
  | "payload-too-large"
  | "unauthorized"
  | "forbidden"
  | "conflict"
  | "destination-not-allowed"
  | "url-not-allowed"
  | "gateway-failed"
  | "service-unavailable"
  | "internal-error";

const TITLES: Record<ProblemType, string> = {
  "invalid-json": "Request body is not valid JSON",
  "unsupported-media-type": "Request body must be application/json",
  "validation-failed": "Request failed validation",
  "invalid-cursor": "Invalid pagination cursor",
  "not-found": "Not found",
  "method-not-allowed": "Method not allowed",
  "illegal-transition": "Illegal call status transition",
  "idempotency-key-reused": "Idempotency key reused with a different request",
  "idempotency-key-in-use": "A request with this idempotency key is in progress",
  "invalid-idempotency-key": "Invalid Idempotency-Key header",
  "payload-too-large": "Request body too large",
  "unauthorized": "Unauthorized",
  "forbidden": "Forbidden",
  "conflict": "Conflict",
  "destination-not-allowed": "The gateway does not dial this destination",
  "url-not-allowed": "The server does not send requests to this URL",
  "gateway-failed": "The gateway refused the request",
  "service-unavailable": "Service temporarily unavailable",
  "internal-error": "Internal server error",
};

/**
 * An error the API turns into a problem response.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ProblemError } from "./problem.ts";
 * const error = new ProblemError(404, "not-found", 'No call "CA1"');
 * assertEquals(error.details.type, "https://clutchcall.dev/problems/not-found");
 * ```
 */
export class ProblemError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The body. */
  readonly details: ProblemDetails;

  /** Creates the error; `extra` adds extension members. */
  constructor(
    status: number,
    type: ProblemType,
    detail?: string,
    extra: Record<string, unknown> = {},
  ) {
    super(detail ?? TITLES[type]);
    this.name = "ProblemError";
    this.status = status;
    this.details = {
      type: PROBLEM_BASE + type,
      title: TITLES[type],
      status,
      ...(detail ? { detail } : {}),
      ...extra,
    };
  }
}

/**
 * A problem response.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { problemResponse, ProblemError } from "./problem.ts";
 * const response = problemResponse(new ProblemError(413, "payload-too-large"));
 * assertEquals(response.headers.get("content-type"), "application/problem+json");
 * ```
 */
export function problemResponse(error: ProblemError, instance?: string): Response {
  const body = instance ? { ...error.details, instance } : error.details;
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { "content-type": "application/problem+json" },
  });
}
