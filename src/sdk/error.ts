/**
 * The SDK's error: a non-2xx answer from the API, carrying its RFC 9457 problem details.
 *
 * @module
 */

/** RFC 9457 problem details as the API sends them. */
export interface Problem {
  /** A URI identifying the problem type; its last segment is {@linkcode VoiceApiError.code}. */
  readonly type: string;
  /** A short, human-readable summary of the problem type. */
  readonly title: string;
  /** The HTTP status code (0 when no response arrived). */
  readonly status: number;
  /** A human-readable explanation of this occurrence. */
  readonly detail?: string;
  /** A URI identifying this occurrence. */
  readonly instance?: string;
  /** Validation failures: each bad input's path and what is wrong with it. */
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
  /** Extension members the API adds. */
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
