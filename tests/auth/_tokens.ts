/**
 * Keys and tokens for the auth tests: an HS256 secret, an ES256 key pair (PEM and JWK forms),
 * and hand-built tokens for what `signToken` refuses to make (alg "none", HS512, forgeries).
 *
 * @module
 */
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { signToken, type SignTokenOptions } from "../../src/auth/mod.ts";

export const SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const OTHER_SECRET = "another-secret-0123456789-abcdefghijklmnopqrstuvw";
export const ISSUER = "https://auth.test";
export const AUDIENCE = "clutchcall-voice";

export const es256 = await generateKeyPair("ES256", { extractable: true });
export const ES256_PUBLIC_PEM = await exportSPKI(es256.publicKey);
export const ES256_PUBLIC_JWK = { ...await exportJWK(es256.publicKey), kid: "k1" };

/** An HS256 token from {@linkcode SECRET} with the test issuer and audience. */
export function hs256(options: Partial<SignTokenOptions> = {}): Promise<string> {
  return signToken({
    hs256Secret: SECRET,
    scopes: [],
    issuer: ISSUER,
    audience: AUDIENCE,
    ...options,
  });
}

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const json64 = (value: unknown) => b64url(encoder.encode(JSON.stringify(value)));

/** Valid claims for hand-built tokens. */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600, scope: "calls:read", ...extra };
}

/** An unsigned token (`alg: "none"`). */
export function unsigned(payload = claims()): string {
  return `${json64({ alg: "none", typ: "JWT" })}.${json64(payload)}.`;
}

/** An HMAC token with any HS algorithm and key. */
export async function hmac(
  alg: "HS256" | "HS384" | "HS512",
  key: string | Uint8Array,
  payload = claims(),
): Promise<string> {
  return await new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(
    typeof key === "string" ? encoder.encode(key) : key,
  );
}
