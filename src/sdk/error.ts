/**
 * The SDK's error: a non-2xx answer from the API, carrying its RFC 9457 problem details.
 *
 * @module
 */

/** RFC 9457 problem details as the API sends them. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  readonly [extension: string]: unknown;
}

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
