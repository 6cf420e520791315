/**
 * The SDK's error: a non-2xx answer from the API, carrying its RFC 9457 problem details.
 *
 * @module
 */
import type { ProblemDetails } from "../api/problem.ts";

/**
 * RFC 9457 problem details as the API sends them (the shared definition in
 * `src/api/problem.ts`); the last segment of `type` is {@linkcode VoiceApiError.code}.
 */
export type Problem = ProblemDetails;

/**
 * A request the API refused (or a transport failure, with `status` 0).
 *
 * @example
 * ```ts ignore
 * import { Voice, VoiceApiError } from "@clutchcall/voice";
 * try {
 *   await voice.calls.hangup("CA1");
 * } catch (error) {
 *   if (error instanceof VoiceApiError && error.status === 409) console.log(error.problem.detail);
 * }
 * ```
 */
export class VoiceApiError extends Error {
  /** The HTTP status (0 when no response arrived). */
  readonly status: number;
  /** The problem details. */
  readonly problem: Problem;

  /** Creates the error from a problem. */
  constructor(problem: Problem, options?: { cause?: unknown }) {
    super(`${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`, options);
    this.name = "VoiceApiError";
    this.status = problem.status;
    this.problem = problem;
  }

  /** The problem type's last path segment, e.g. `illegal-transition`. */
  get code(): string {
    return this.problem.type.split("/").pop() ?? this.problem.type;
  }
}
