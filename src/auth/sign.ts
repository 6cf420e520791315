/**
 * Minting tokens: the development token, tests, and operators' scripts. Production tokens
 * usually come from an identity provider; this is the same format.
 *
 * @module
 */
import { type CryptoKey, SignJWT } from "jose";
import type { ResourceLimits } from "./grant.ts";
import { hs256Key } from "./keys.ts";
import type { Scope } from "./scope.ts";

/**
 * What to put in a token and how to sign it: `hs256Secret`, or `es256PrivateKey` (with an
 * optional `kid`).
 *
 * @example
 * ```ts
 * import type { SignTokenOptions } from "./sign.ts";
 * const options: SignTokenOptions = {
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 *   scopes: ["media:subscribe"],
 *   voice: { sids: ["CA1"] },
 *   expiresInSec: 600,
 * };
 * ```
 */
export interface SignTokenOptions {
  readonly hs256Secret?: string;
  readonly es256PrivateKey?: CryptoKey;
  /** The `kid` header for an ES256 token. */
  readonly kid?: string;
  /** The `scope` claim. */
  readonly scopes: readonly Scope[];
  /** The `voice` claim; omit for an unrestricted token. */
  readonly voice?: ResourceLimits;
  readonly subject?: string;
  readonly issuer?: string;
  readonly audience?: string | readonly string[];
  /** Lifetime from now, in seconds [3600]. */
  readonly expiresInSec?: number;
  /** `nbf`, in seconds from now; unset means no `nbf` claim. */
  readonly notBeforeInSec?: number;
}

/**
 * Signs a token.
 *
 * @throws {TypeError} Unless exactly one of `hs256Secret` and `es256PrivateKey` is given
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { signToken } from "./sign.ts";
 * const jwt = await signToken({
 *   hs256Secret: "a shared secret of at least thirty-two bytes",
 *   scopes: ["calls:read"],
 * });
 * assertEquals(jwt.split(".").length, 3);
 * ```
 */
export async function signToken(options: SignTokenOptions): Promise<string> {
  const {
    hs256Secret,
    es256PrivateKey,
    kid,
    scopes,
    voice,
    subject,
    issuer,
    audience,
    expiresInSec = 3600,
    notBeforeInSec,
  } = options;
  if ((hs256Secret === undefined) === (es256PrivateKey === undefined)) {
    throw new TypeError("Cannot sign token: give exactly one of hs256Secret and es256PrivateKey");
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ scope: scopes.join(" "), ...(voice ? { voice } : {}) })
    .setProtectedHeader(
      hs256Secret !== undefined ? { alg: "HS256", typ: "JWT" } : {
        alg: "ES256",
        typ: "JWT",
        ...(kid ? { kid } : {}),
      },
    )
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSec);
  if (notBeforeInSec !== undefined) jwt.setNotBefore(now + notBeforeInSec);
  if (subject !== undefined) jwt.setSubject(subject);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience as string | string[]);
  return await jwt.sign(hs256Secret !== undefined ? hs256Key(hs256Secret) : es256PrivateKey!);
}
