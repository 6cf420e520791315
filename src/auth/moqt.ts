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
import type { Authorize, ConnectionCredentials } from "../relay/model/authorize.ts";
import { AuthError } from "./error.ts";
import type { Grant } from "./grant.ts";
import type { TokenVerifier } from "./verifier.ts";

/** Decides a connection's rights; the shape of `RelayOptions.authorizeConnection`. */
export type ConnectionAuthorizer = (
  transport: MoqTransport,
  credentials: ConnectionCredentials,
) => Promise<Authorize>;

/**
 * The connection's token: the one its setup carried, else the URL's `jwt` query.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { connectionToken } from "./moqt.ts";
 * const query = new URLSearchParams("jwt=abc.def.ghi");
 * assertEquals(connectionToken({ query }, {}), "abc.def.ghi");
 * assertEquals(connectionToken({ query }, { token: "from.setup.wins" }), "from.setup.wins");
 * ```
 */
export function connectionToken(
  transport: Pick<MoqTransport, "query">,
  credentials: ConnectionCredentials,
): string | undefined {
  return credentials.token ?? transport.query.get("jwt") ?? undefined;
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
  return async function authorizeConnection(transport, credentials) {
    const token = connectionToken(transport, credentials);
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
