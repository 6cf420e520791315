/**
 * Auth for the HTTP API and the MoQT relay: bearer JWTs (HS256 secret or ES256 public keys),
 * scopes, per-call resource limits, Hono middleware, the relay's connection authorizer, and
 * development mode's self-minted token.
 *
 * Token claims:
 *
 * ```json
 * {
 *   "sub": "client:alice",
 *   "iss": "https://auth.example.com",
 *   "aud": "clutchcall-voice",
 *   "exp": 1767225600,
 *   "scope": "calls:read calls:write media:publish media:subscribe agents:write",
 *   "voice": { "sids": ["CA123"], "prefix": ["voice", "CA9"] }
 * }
 * ```
 *
 * `exp` is required; `iss` and `aud` are checked when configured. See {@linkcode SCOPES}
 * for the scopes and {@linkcode Grant} for the `voice` limits.
 *
 * @module
 */
export { isScope, parseScopeClaim, type Scope, SCOPES } from "./scope.ts";
export { AuthError, type AuthErrorKind } from "./error.ts";
export { Grant, parseVoiceClaim, type ResourceLimits } from "./grant.ts";
export { type Es256Key, hs256Key, importEs256PublicKey, MIN_HS256_SECRET_BYTES } from "./keys.ts";
export { createTokenVerifier, type TokenVerifier, type VerifierOptions } from "./verifier.ts";
export { signToken, type SignTokenOptions } from "./sign.ts";
export {
  type AuthEnv,
  authErrorResponse,
  type AuthProblem,
  type AuthVariables,
  bearerAuth,
  type BearerAuthOptions,
  requireClient,
  requireOriginate,
  requireScope,
  requireSid,
} from "./middleware.ts";
export { type ConnectionAuthorizer, connectionToken, moqAuthorizer } from "./moqt.ts";
export { DEV_ISSUER, DEV_TOKEN_LIFETIME_SEC, type DevAuth, setupDevAuth } from "./dev_token.ts";
