/**
 * The one error type of the codec layer.
 *
 * @module
 */

/**
 * What went wrong, as a stable string. The first seven mirror libopus's negative status
 * codes (`OPUS_BAD_ARG` … `OPUS_ALLOC_FAIL`); the rest belong to this layer.
 *
 * @example
 * ```ts
 * import { CodecError, type CodecErrorCode } from "@clutchcall/voice/codecs";
 * const code: CodecErrorCode = "invalid_packet";
 * const error = new CodecError(code, "Cannot decode Opus: corrupted stream");
 * ```
 */
export type CodecErrorCode =
  | "bad_argument"
  | "buffer_too_small"
  | "internal_error"
  | "invalid_packet"
  | "unimplemented"
  | "invalid_state"
  | "alloc_fail"
  | "closed"
  | "unsupported"
  | "invalid_wav"
  | "backend_unavailable";

const OPUS_STATUS_CODES: Readonly<Record<number, CodecErrorCode>> = {
  [-1]: "bad_argument",
  [-2]: "buffer_too_small",
  [-3]: "internal_error",
  [-4]: "invalid_packet",
  [-5]: "unimplemented",
  [-6]: "invalid_state",
  [-7]: "alloc_fail",
};

/**
 * Options of a {@linkcode CodecError}.
 *
 * @example
 * ```ts
 * import { CodecError } from "@clutchcall/voice/codecs";
 * const error = new CodecError("invalid_packet", "Cannot decode", { opusStatus: -4 });
 * ```
 */
export interface CodecErrorOptions extends ErrorOptions {
  /** The libopus status (a negative `int`) when the error comes from libopus. */
  readonly opusStatus?: number;
}

/**
 * A codec refused its input or its state: a corrupt packet, a closed instance, a backend
 * that cannot load. Carries a stable {@linkcode CodecErrorCode} and, for libopus failures,
 * the native status number.
 *
 * @example
 * ```ts
 * import { CodecError } from "@clutchcall/voice/codecs";
 *
 * try {
 *   throw CodecError.fromOpusStatus(-4, "corrupted stream", "Cannot decode Opus packet");
 * } catch (error) {
 *   if (error instanceof CodecError && error.code === "invalid_packet") {
 *     // conceal the frame instead
 *   }
 * }
 * ```
 */
export class CodecError extends Error {
  /** The stable error code. */
  readonly code: CodecErrorCode;
  /** The libopus status when the error comes from libopus. */
  readonly opusStatus: number | undefined;

  /**
   * Makes an error with a code.
   *
   * @example
   * ```ts
   * import { CodecError } from "@clutchcall/voice/codecs";
   * const error = new CodecError("closed", "Cannot encode: the encoder is closed");
   * ```
   */
  constructor(code: CodecErrorCode, message: string, options: CodecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CodecError";
    this.code = code;
    this.opusStatus = options.opusStatus;
  }

  /**
   * Maps a negative libopus status to an error, with libopus's own text after the context.
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { CodecError } from "@clutchcall/voice/codecs";
   * const error = CodecError.fromOpusStatus(-1, "invalid argument", "Cannot set bitrate");
   * assertEquals(error.code, "bad_argument");
   * ```
   */
  static fromOpusStatus(status: number, text: string, context: string): CodecError {
    const code = OPUS_STATUS_CODES[status] ?? "internal_error";
    return new CodecError(code, `${context}: ${text} (opus status ${status})`, {
      opusStatus: status,
    });
  }
}
