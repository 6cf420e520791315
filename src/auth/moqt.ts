/**
 * MoQT connection auth: one token authorizes a whole connection. It comes from the
 * AUTHORIZATION_TOKEN parameter of CLIENT_SETUP (raw QUIC peers cannot put a query on a URL;
 * value type USE_VALUE, the JWT's UTF-8 bytes, any token type) or from `?jwt=` on the
 * WebTransport URL; the setup parameter wins when both are present.
 *
 * A connection without a valid token is closed with a draft-14 session code: UNAUTHORIZED
 * (0x2) for a missing, forged or otherwise invalid token, MALFORMED_AUTH_TOKEN (0x16) for one
 * that does not parse, EXPIRED_AUTH_TOKEN (0x18) for an expired one, UNKNOWN_AUTH_TOKEN_ALIAS
 * (0x17) for an alias (none can have been registered before setup). Once connected, each
 * publish and subscribe is checked against the {@linkcode Grant} (see
 * {@linkcode Grant.authorizeMoq}); a refused request gets the draft's UNAUTHORIZED (0x1)
 * request error and the session stays up.
 *
 * @module
 */
import { MoqError } from "../relay/error.ts";
import type { MoqTransport } from "../relay/transport/transport.ts";
import type { Authorize } from "../relay/model/authorize.ts";
import {
  type AuthToken,
  decodeAuthToken,
  type Parameters,
  SetupParameter,
} from "../relay/wire/draft14/parameters.ts";
import { AuthError } from "./error.ts";
import type { Grant } from "./grant.ts";
import type { TokenVerifier } from "./verifier.ts";

/** Decides a connection's rights; the shape of `RelayOptions.authorizeConnection`. */
export type ConnectionAuthorizer = (
  transport: MoqTransport,
  setup: Parameters,
) => Promise<Authorize>;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The connection's token: the setup parameter's value, else the URL's `jwt` query.
 *
 * @throws {MoqError} MALFORMED_AUTH_TOKEN or UNKNOWN_AUTH_TOKEN_ALIAS for an unusable
 *   setup parameter
 * @example
 * ```ts
 * import { connectionToken } from "./moqt.ts";
 * const query = new URLSearchParams("jwt=abc.def.ghi");
 * console.log(connectionToken({ query }, new Map())); // "abc.def.ghi"
 * ```
 */
export function connectionToken(
  transport: Pick<MoqTransport, "query">,
  setup: Parameters,
): string | undefined {
  const raw = setup.get(SetupParameter.AUTHORIZATION_TOKEN);
  if (raw instanceof Uint8Array) {
    let token: AuthToken;
    try {
      token = decodeAuthToken(raw);
    } catch (error) {
      throw new MoqError(
        "malformed_auth_token",
        `Malformed AUTHORIZATION_TOKEN: ${(error as Error).message}`,
      );
    }
    if (token.aliasType === "use_alias") {
      throw new MoqError(
        "unknown_auth_token_alias",
        `Unknown auth token alias ${token.alias}`,
      );
    }
    if (token.aliasType === "delete") {
      throw new MoqError(
        "malformed_auth_token",
        "AUTHORIZATION_TOKEN in CLIENT_SETUP must carry a token, not DELETE an alias",
      );
    }
    try {
      return decoder.decode(token.value);
    } catch (error) {
      // The fatal decoder's TypeError: the bytes are not UTF-8.
      throw new MoqError(
        "malformed_auth_token",
        "AUTHORIZATION_TOKEN value is not UTF-8",
        { cause: error },
      );
    }
  }
  return transport.query.get("jwt") ?? undefined;
}

/**
 * The relay's `authorizeConnection` for `verifier`: verifies the connection's token once
 * CLIENT_SETUP is read, and returns the per-request check of its grant.
 *
 * @example
 * ```ts ignore
 * import { Relay } from "../relay/relay.ts";
 * import { moqAuthorizer } from "./moqt.ts";
 * const relay = new Relay({ log, authorizeConnection: moqAuthorizer(verifier) });
 * ```
 */
export function moqAuthorizer(
  verifier: TokenVerifier,
  { onGrant }: { onGrant?: (grant: Grant, transport: MoqTransport) => void } = {},
): ConnectionAuthorizer {
  return async function authorizeConnection(transport, setup) {
    const token = connectionToken(transport, setup);
    if (token === undefined) {
      throw new MoqError(
        "unauthorized",
        "No token: send AUTHORIZATION_TOKEN in CLIENT_SETUP or ?jwt= on the URL",
      );
    }
    let grant: Grant;
    try {
      grant = await verifier.verify(token);
    } catch (error) {
      if (error instanceof AuthError) throw new MoqError(error.moqKind, error.message);
      throw error;
    }
    onGrant?.(grant, transport);
    return grant.authorizeMoq();
  };
}
