/**
 * How shards trust each other: a secret made per process (never written anywhere) signs the
 * short tokens one shard presents to another; every shard's relay accepts those besides the
 * tokens its configuration accepts.
 *
 * @module
 */
import { base64url } from "jose";
import { createTokenVerifier, type TokenVerifier } from "../../auth/verifier.ts";
import { signToken } from "../../auth/sign.ts";
import type { Grant } from "../../auth/grant.ts";

/** The issuer of the tokens shards mint for each other. */
export const SHARD_ISSUER = "clutchcall:shard";

/**
 * The process's shard secret and what it signs and verifies.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ShardAuth } from "@clutchcall/voice/relay/shard";
 *
 * const auth = await ShardAuth.create();
 * const grant = await auth.verifier.verify(await auth.mint(1));
 * assertEquals(grant.subject, "shard:1");
 * ```
 */
export class ShardAuth {
  /** The secret (handed to the shard Workers, never logged or stored). */
  readonly secret: string;
  /** Verifies tokens minted with {@linkcode ShardAuth.mint}. */
  readonly verifier: TokenVerifier;

  private constructor(secret: string, verifier: TokenVerifier) {
    this.secret = secret;
    this.verifier = verifier;
  }

  /** A fresh secret, or the one given (in a Worker: the main thread's). */
  static async create(secret?: string): Promise<ShardAuth> {
    secret ??= base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
    return new ShardAuth(
      secret,
      await createTokenVerifier({ hs256Secret: secret, issuer: SHARD_ISSUER }),
    );
  }

  /** A token for shard `from` to publish and subscribe on another shard (one hour). */
  mint(from: number): Promise<string> {
    return signToken({
      hs256Secret: this.secret,
      scopes: ["media:publish", "media:subscribe"],
      subject: `shard:${from}`,
      issuer: SHARD_ISSUER,
      expiresInSec: 3600,
    });
  }

  /** A verifier accepting what `configured` accepts and the shards' own tokens. */
  accepting(configured: TokenVerifier): TokenVerifier {
    const own = this.verifier;
    return {
      async verify(token: string): Promise<Grant> {
        try {
          return await configured.verify(token);
        } catch (error) {
          // Not the configuration's: maybe another shard's, else the configured refusal.
          return await own.verify(token).catch(() => Promise.reject(error));
        }
      },
    };
  }
}
