/**
 * RFC 9457 problem details as the HTTP API sends them: the one definition the server (which
 * writes them, `src/http/problem.ts`) and the SDK (which reads them, `src/sdk/error.ts`)
 * share. It lives in this neutral folder, on the ground floor beside `src/log`, because the
 * SDK may not import server code and the server should not import the SDK: the wire contract
 * belongs to neither. Types and constants only: no I/O, no Deno API, no imports.
 *
 * @module
 */

/** Where the API's problem type URIs live: `type` is this plus a short name. */
export const PROBLEM_BASE = "https://clutchcall.dev/problems/";

/**
 * The JSON body of a problem response (`application/problem+json`).
 *
 * @example
 * ```ts
 * import type { ProblemDetails } from "./problem.ts";
 * const problem: ProblemDetails = {
 *   type: "https://clutchcall.dev/problems/not-found",
 *   title: "Not found",
 *   status: 404,
 *   detail: 'No call "CA1"',
 * };
 * ```
 */
export interface ProblemDetails {
  /** A URI identifying the problem type; its last segment names it (e.g. `not-found`). */
  readonly type: string;
  /** A short, human-readable summary of the problem type. */
  readonly title: string;
  /** The HTTP status code (the SDK uses 0 when no response arrived). */
  readonly status: number;
  /** A human-readable explanation of this occurrence. */
  readonly detail?: string;
  /** A URI identifying this occurrence (the request path). */
  readonly instance?: string;
  /** Validation failures: each bad input's path and what is wrong with it. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  /** Extension members the API adds (e.g. `currentStatus`). */
  readonly [extension: string]: unknown;
}
