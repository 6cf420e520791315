/**
 * Bearer JWT verification (`npm:jose`): HS256 with a shared secret and ES256 with public
 * keys, `exp` required, `nbf`, `iss` and `aud` checked, then the `scope` and `voice` claims
 * turned into a {@linkcode Grant}. Every failure is an {@linkcode AuthError} with a precise
 * message.
 *
 * @module
 */
import { type CryptoKey, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import { AuthError } from "./error.ts";
import { type Es256Key, hs256Key, importEs256PublicKey } from "./keys.ts";
import { Grant, parseVoiceClaim } from "./grant.ts";
import { parseScopeClaim } from "./scope.ts";

/**
 * Which tokens a verifier accepts. At least one of `hs256Secret` and `es256PublicKeys`.
 *
 * @example
 * ```ts
 * import type { VerifierOptions } from "./verifier.ts";
 * const options: VerifierOptions = {
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 *   issuer: "https://auth.example.com",
 *   audience: "clutchcall-voice",
 * };
 * ```
 */
export interface VerifierOptions {
  /** HS256 shared secret (at least 32 bytes). */
  readonly hs256Secret?: string;
  /** ES256 public keys, each PEM (SPKI) or JWK JSON text. */
  readonly es256PublicKeys?: readonly string[];
  /** Required `iss`, when set. */
  readonly issuer?: string;
  /** Required `aud` (one of them), when set. */
  readonly audience?: string | readonly string[];
  /** Allowed clock skew for `exp` and `nbf`, in seconds [5]. */
  readonly clockToleranceSec?: number;
}

/**
 * Turns a bearer token into a {@linkcode Grant}.
 *
 * An implementation MUST reject (with an {@linkcode AuthError}, never another error) every
 * token that is not signed by a configured key with an accepted algorithm, is expired or not
 * yet valid, or has the wrong issuer or audience.
 */
export interface TokenVerifier {
  /** Verifies `token` (a compact JWS) and returns what it allows. */
  verify(token: string): Promise<Grant>;
}

/**
 * Creates a verifier, importing the keys once.
 *
 * @throws {TypeError} When no key is configured or a key is invalid
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createTokenVerifier } from "./verifier.ts";
 * const verifier = await createTokenVerifier({
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 * });
 * const error = await verifier.verify("not-a-jwt").catch((e) => e);
 * assertEquals(error.kind, "malformed_token");
 * ```
 */
export async function createTokenVerifier(options: VerifierOptions): Promise<TokenVerifier> {
  const secret = options.hs256Secret === undefined ? undefined : hs256Key(options.hs256Secret);
  const es256: Es256Key[] = [];
  for (const [i, text] of (options.es256PublicKeys ?? []).entries()) {
    try {
      es256.push(await importEs256PublicKey(text));
    } catch (error) {
      throw new TypeError(`es256PublicKeys[${i}]: ${(error as Error).message}`, { cause: error });
    }
  }
  if (!secret && es256.length === 0) {
    throw new TypeError("Cannot verify tokens: configure hs256Secret or es256PublicKeys");
  }
  return new JwtVerifier(secret, es256, options);
}

class JwtVerifier implements TokenVerifier {
  readonly #secret: Uint8Array | undefined;
  readonly #es256: readonly Es256Key[];
  readonly #options: VerifierOptions;
  readonly #algorithms: readonly string[];

  constructor(secret: Uint8Array | undefined, es256: Es256Key[], options: VerifierOptions) {
    this.#secret = secret;
    this.#es256 = es256;
    this.#options = options;
    this.#algorithms = [...(secret ? ["HS256"] : []), ...(es256.length ? ["ES256"] : [])];
  }

  async verify(token: string): Promise<Grant> {
    if (typeof token !== "string" || token === "") {
      throw new AuthError("missing_token", "No bearer token was presented");
    }
    if (token.split(".").length !== 3) {
      throw new AuthError(
        "malformed_token",
        "Token is not a compact JWS: expected three dot-separated parts",
      );
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (cause) {
      throw new AuthError("malformed_token", "Token header is not base64url-encoded JSON", {
        cause,
      });
    }
    if (typeof alg !== "string" || !this.#algorithms.includes(alg)) {
      throw new AuthError(
        "invalid_token",
        `Token algorithm ${JSON.stringify(alg ?? null)} is not accepted (accepted: ${
          this.#algorithms.join(", ")
        })`,
      );
    }
    const payload = await this.#verifySignatureAndClaims(token, alg);
    try {
      if (payload.sub !== undefined && typeof payload.sub !== "string") {
        throw new TypeError("Invalid sub claim: expected a string");
      }
      return new Grant({
        scopes: parseScopeClaim(payload.scope),
        limits: parseVoiceClaim(payload.voice),
        expiresAt: new Date((payload.exp as number) * 1000),
        subject: payload.sub,
        claims: payload,
      });
    } catch (cause) {
      throw new AuthError(
        "malformed_token",
        `Token claims are malformed: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  async #verifySignatureAndClaims(token: string, alg: string): Promise<JWTPayload> {
    const keys = alg === "HS256" ? [this.#secret!] : this.#es256Candidates(token);
    const { issuer, audience, clockToleranceSec = 5 } = this.#options;
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [alg],
          issuer,
          audience: audience as string | string[] | undefined,
          clockTolerance: clockToleranceSec,
          requiredClaims: ["exp"],
        });
        return payload;
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        throw describe(error, this.#options);
      }
    }
    throw new AuthError(
      "invalid_token",
      alg === "HS256"
        ? "Token signature does not verify with the configured HS256 secret"
        : `Token signature does not verify with any of the ${keys.length} matching ES256 key(s)`,
    );
  }

  /** Keys whose `kid` matches the token's; every key when the token or the keys have none. */
  #es256Candidates(token: string): CryptoKey[] {
    const kid = decodeProtectedHeader(token).kid;
    const matching = kid === undefined ? [] : this.#es256.filter((k) => k.kid === kid);
    return (matching.length ? matching : this.#es256).map((k) => k.key);
  }
}

/** Maps a jose error (other than a signature mismatch) to a precise {@linkcode AuthError}. */
function describe(error: unknown, options: VerifierOptions): AuthError {
  if (error instanceof errors.JWTExpired) {
    const exp = Number(error.payload.exp);
    return new AuthError(
      "expired_token",
      `Token expired at ${new Date(exp * 1000).toISOString()}`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const { claim, reason, payload } = error;
    if (reason === "missing") {
      return new AuthError("invalid_token", `Token has no "${claim}" claim`, { cause: error });
    }
    if (reason === "invalid") {
      return new AuthError("malformed_token", `Token claim "${claim}" has the wrong type`, {
        cause: error,
      });
    }
    switch (claim) {
      case "nbf":
        return new AuthError(
          "invalid_token",
          `Token is not valid before ${new Date(Number(payload.nbf) * 1000).toISOString()}`,
          { cause: error },
        );
      case "iss":
        return new AuthError(
          "invalid_token",
          `Token issuer ${JSON.stringify(payload.iss ?? null)} is not ${
            JSON.stringify(options.issuer)
          }`,
          { cause: error },
        );
      case "aud":
        return new AuthError(
          "invalid_token",
          `Token audience ${JSON.stringify(payload.aud ?? null)} does not include ${
            JSON.stringify(options.audience)
          }`,
          { cause: error },
        );
      case "iat":
        return new AuthError("invalid_token", "Token was issued in the future", { cause: error });
    }
    return new AuthError("invalid_token", `Token claim "${claim}" is invalid`, { cause: error });
  }
  if (
    error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return new AuthError("malformed_token", `Token is malformed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthError("invalid_token", "Token algorithm is not accepted", { cause: error });
  }
  return new AuthError("invalid_token", `Token cannot be verified: ${(error as Error)?.message}`, {
    cause: error,
  });
}
