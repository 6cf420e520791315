/**
 * {@linkcode AuthError}: why a request or a MoQT connection was refused, with the HTTP status
 * and the protocol-neutral MoQT session error each reason maps to.
 *
 * @module
 */
import type { MoqErrorKind } from "../relay/error.ts";

/**
 * Why authentication or authorization failed.
 *
 * - `missing_token`: no token was presented
 * - `malformed_token`: not a compact JWS, bad base64url or JSON, or claims of the wrong type
 * - `expired_token`: `exp` is in the past
 * - `invalid_token`: bad signature, an algorithm this server does not accept, no key for it,
 *   `nbf` in the future, or the wrong `iss` / `aud`
 * - `insufficient_scope`: a valid token without the scope the operation needs
 * - `forbidden_resource`: a valid token whose `voice` limits exclude the call or namespace
 */
export type AuthErrorKind =
  | "missing_token"
  | "malformed_token"
  | "expired_token"
  | "invalid_token"
  | "insufficient_scope"
  | "forbidden_resource";

const TITLES: Record<AuthErrorKind, string> = {
  missing_token: "Authentication required",
  malformed_token: "Malformed token",
  expired_token: "Expired token",
  invalid_token: "Invalid token",
  insufficient_scope: "Insufficient scope",
  forbidden_resource: "Forbidden resource",
};

/**
 * A refused request. `status` is the HTTP status (401 for the token, 403 for what it
 * allows); `moqKind` why a refused MoQT connection is closed (each wire dialect maps it to
 * its code).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { AuthError } from "./error.ts";
 * const error = new AuthError("expired_token", "Token expired at 2026-01-01T00:00:00.000Z");
 * assertEquals([error.status, error.moqKind], [401, "expired_auth_token"]);
 * ```
 */
export class AuthError extends Error {
  readonly kind: AuthErrorKind;
  /** The scope that was missing, for `insufficient_scope`. */
  readonly scope: string | undefined;

  /** Creates the error; `message` is the precise detail shown to the client. */
  constructor(
    kind: AuthErrorKind,
    message: string,
    options: { scope?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "AuthError";
    this.kind = kind;
    this.scope = options.scope;
  }

  /** A short, fixed summary of the kind (the problem's `title`). */
  get title(): string {
    return TITLES[this.kind];
  }

  /** 401 when the token is missing or bad, 403 when it does not allow the operation. */
  get status(): 401 | 403 {
    return this.kind === "insufficient_scope" || this.kind === "forbidden_resource" ? 403 : 401;
  }

  /** Why a MoQT connection refused for this reason is closed. */
  get moqKind(): MoqErrorKind {
    switch (this.kind) {
      case "malformed_token":
        return "malformed_auth_token";
      case "expired_token":
        return "expired_auth_token";
      default:
        return "unauthorized";
    }
  }
}
