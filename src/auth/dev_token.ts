/**
 * Development mode: with no `auth` configured, the server still enforces tokens, but signs
 * its own. A random HS256 secret is kept in `<data-dir>/auth/dev-secret` (created once,
 * mode 0600) and a token with every scope, unrestricted, valid for
 * {@linkcode DEV_TOKEN_LIFETIME_SEC}, is minted at each start and written to
 * `<data-dir>/dev-token` (mode 0600). Tokens minted at earlier starts stay valid until they
 * expire, since the secret persists; delete the secret to revoke them all.
 *
 * @module
 */
import { join } from "node:path";
import { base64url } from "jose";
import { MIN_HS256_SECRET_BYTES } from "./keys.ts";
import { SCOPES } from "./scope.ts";
import { signToken } from "./sign.ts";
import { createTokenVerifier, type TokenVerifier } from "./verifier.ts";

/** Lifetime of a development token: 30 days. */
export const DEV_TOKEN_LIFETIME_SEC = 30 * 86_400;
/** The `iss` of development tokens; the development verifier requires it. */
export const DEV_ISSUER = "clutchcall-voice/dev";

/** What {@linkcode setupDevAuth} returns. */
export interface DevAuth {
  /** Verifies development tokens (HS256 with the data dir's secret, issuer checked). */
  readonly verifier: TokenVerifier;
  /** The token minted now. */
  readonly token: string;
  /** Where it was written: `<data-dir>/dev-token`. */
  readonly tokenPath: string;
}

/**
 * Loads (or creates) the development secret, mints a development token and writes it.
 *
 * @example
 * ```ts ignore
 * import { setupDevAuth } from "./dev_token.ts";
 * const { token, tokenPath } = await setupDevAuth({ dataDir: "./.voice" });
 * ```
 */
export async function setupDevAuth({ dataDir }: { dataDir: string }): Promise<DevAuth> {
  const secret = await loadOrCreateSecret(join(dataDir, "auth", "dev-secret"));
  const token = await signToken({
    hs256Secret: secret,
    scopes: SCOPES,
    subject: "dev",
    issuer: DEV_ISSUER,
    expiresInSec: DEV_TOKEN_LIFETIME_SEC,
  });
  const tokenPath = join(dataDir, "dev-token");
  await writePrivateFile(tokenPath, `${token}\n`);
  const verifier = await createTokenVerifier({ hs256Secret: secret, issuer: DEV_ISSUER });
  return { verifier, token, tokenPath };
}

async function loadOrCreateSecret(path: string): Promise<string> {
  try {
    const secret = (await Deno.readTextFile(path)).trim();
    if (new TextEncoder().encode(secret).length >= MIN_HS256_SECRET_BYTES) {
      // Someone may have loosened it; a secret must stay private.
      await Deno.chmod(path, 0o600);
      return secret;
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  await Deno.mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  const secret = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  await writePrivateFile(path, `${secret}\n`);
  return secret;
}

/** Writes `text` to `path` with mode 0600, atomically (a temp file renamed over it). */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(temp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(temp, 0o600); // the umask may have cleared bits, never added them
    await Deno.rename(temp, path);
  } catch (error) {
    // No temporary file left behind; NotFound means it was never created (or renamed away).
    await Deno.remove(temp).catch((cleanup) => {
      if (!(cleanup instanceof Deno.errors.NotFound)) throw cleanup;
    });
    throw error;
  }
}
