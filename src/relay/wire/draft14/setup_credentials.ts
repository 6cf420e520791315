/**
 * Draft-14's credentials in CLIENT_SETUP: the AUTHORIZATION_TOKEN setup parameter, decoded
 * to the neutral {@linkcode ConnectionCredentials} an authorizer reads.
 *
 * @module
 */
import type { ConnectionCredentials } from "../../model/mod.ts";
import { MoqError } from "../../error.ts";
import { type AuthToken, decodeAuthToken, type Parameters, SetupParameter } from "./parameters.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The credentials CLIENT_SETUP's `parameters` carry: the AUTHORIZATION_TOKEN's value as
 * text, or none when the parameter is absent.
 *
 * A token in CLIENT_SETUP must be a literal value: an alias cannot exist before the session
 * does (draft-14 §9.2.1.1), so USE_ALIAS is UNKNOWN_AUTH_TOKEN_ALIAS and DELETE is malformed.
 *
 * @throws {MoqError} `malformed_auth_token` for an undecodable parameter, a DELETE, or a
 *   value that is not UTF-8; `unknown_auth_token_alias` for a USE_ALIAS
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { setupCredentials } from "./setup_credentials.ts";
 * import { encodeAuthToken, SetupParameter } from "./parameters.ts";
 *
 * const value = new TextEncoder().encode("abc.def.ghi");
 * const parameters = new Map([[
 *   SetupParameter.AUTHORIZATION_TOKEN,
 *   encodeAuthToken({ aliasType: "use_value", tokenType: 0, value }),
 * ]]);
 * assertEquals(setupCredentials(parameters), { token: "abc.def.ghi" });
 * assertEquals(setupCredentials(new Map()), {});
 * ```
 */
export function setupCredentials(parameters: Parameters): ConnectionCredentials {
  const raw = parameters.get(SetupParameter.AUTHORIZATION_TOKEN);
  if (!(raw instanceof Uint8Array)) return {};
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
    throw new MoqError("unknown_auth_token_alias", `Unknown auth token alias ${token.alias}`);
  }
  if (token.aliasType === "delete") {
    throw new MoqError(
      "malformed_auth_token",
      "AUTHORIZATION_TOKEN in CLIENT_SETUP must carry a token, not DELETE an alias",
    );
  }
  try {
    return { token: decoder.decode(token.value) };
  } catch (error) {
    // The fatal decoder's TypeError: the bytes are not UTF-8.
    throw new MoqError("malformed_auth_token", "AUTHORIZATION_TOKEN value is not UTF-8", {
      cause: error,
    });
  }
}
