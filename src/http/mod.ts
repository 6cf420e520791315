/**
 * The HTTP edge's shared floor: problem responses (RFC 9457), `Idempotency-Key` replay, and
 * the OpenAPI route helpers every route module builds with. The Calls API and the agent
 * routes both stand on it; it knows neither.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ProblemError, problemResponse } from "./mod.ts";
 * const response = problemResponse(new ProblemError(404, "not-found", 'No call "CA1"'));
 * assertEquals(response.status, 404);
 * ```
 *
 * @module
 */
export * from "./problem.ts";
export * from "./idempotency.ts";
export * from "./openapi.ts";
