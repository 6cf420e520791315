/**
 * Verification keys from configuration: an HS256 shared secret, and ES256 public keys as PEM
 * (SPKI, `-----BEGIN PUBLIC KEY-----`) or as a JWK (JSON text, `kty: "EC"`, `crv: "P-256"`).
 *
 * @module
 */
// jose's CryptoKey is the one the runtime's crypto.subtle returns (Deno's, or Node's webcrypto when @types/node
// is in the program): the global name would be Deno's alone.
import { type CryptoKey, importJWK, importSPKI, type JWK } from "jose";

/** RFC 7518 §3.2: an HS256 key must be at least 256 bits. */
export const MIN_HS256_SECRET_BYTES = 32;

/** An imported ES256 public key and its JWK `kid`, if it had one. */
export interface Es256Key {
  readonly key: CryptoKey;
  readonly kid: string | undefined;
}

/**
 * Checks an HS256 secret and returns its bytes.
 *
 * @throws {TypeError} When it is shorter than 32 bytes (UTF-8)
 * @example
 * ```ts
 * import { hs256Key } from "./keys.ts";
 * const key = hs256Key("a shared secret of at least thirty-two bytes");
 * ```
 */
export function hs256Key(secret: string): Uint8Array {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw new TypeError(
      `Invalid HS256 secret: ${bytes.length} bytes, at least ${MIN_HS256_SECRET_BYTES} required`,
    );
  }
  return bytes;
}

/**
 * Imports an ES256 public key from PEM (SPKI) or JWK JSON text.
 *
 * @throws {TypeError} With a precise reason: a private key, another curve or key type, or
 *   text that is neither PEM nor JSON
 * @example
 * ```ts ignore
 * import { importEs256PublicKey } from "./keys.ts";
 * const { key } = await importEs256PublicKey(await Deno.readTextFile("signer.pub.pem"));
 * ```
 */
export async function importEs256PublicKey(text: string): Promise<Es256Key> {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) {
    if (!trimmed.startsWith("-----BEGIN PUBLIC KEY-----")) {
      const label = /^-----BEGIN ([A-Z ]+)-----/.exec(trimmed)?.[1] ?? "unknown";
      throw new TypeError(
        `Invalid ES256 public key: a PEM "${label}", expected "PUBLIC KEY" (SPKI)`,
      );
    }
    try {
      return { key: await importSPKI(trimmed, "ES256"), kid: undefined };
    } catch (cause) {
      throw new TypeError(
        `Invalid ES256 public key: not a P-256 SPKI key: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(trimmed);
  } catch (cause) {
    throw new TypeError("Invalid ES256 public key: neither PEM nor JWK JSON", { cause });
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    throw new TypeError("Invalid ES256 public key: a JWK must be a JSON object");
  }
  if (jwk.kty !== "EC" || jwk.crv !== "P-256") {
    throw new TypeError(
      `Invalid ES256 public key: JWK kty "${jwk.kty}" crv "${jwk.crv}", expected EC P-256`,
    );
  }
  if (jwk.d !== undefined) {
    throw new TypeError(
      "Invalid ES256 public key: the JWK holds a private key (d); give the public half",
    );
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== "string") {
    throw new TypeError("Invalid ES256 public key: JWK kid must be a string");
  }
  try {
    const key = await importJWK({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, "ES256");
    return { key: key as CryptoKey, kid: jwk.kid };
  } catch (cause) {
    throw new TypeError(`Invalid ES256 public key: ${(cause as Error).message}`, { cause });
  }
}
