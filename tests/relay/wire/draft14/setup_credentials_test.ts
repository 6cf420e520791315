import { assertEquals, assertThrows } from "@std/assert";
import { MoqError } from "../../../../src/relay/error.ts";
import { setupCredentials } from "../../../../src/relay/wire/draft14/setup_credentials.ts";
import {
  type AuthToken,
  encodeAuthToken,
  type Parameters,
  SetupParameter,
} from "../../../../src/relay/wire/draft14/parameters.ts";

const withToken = (token: AuthToken | Uint8Array): Parameters =>
  new Map([[
    SetupParameter.AUTHORIZATION_TOKEN,
    token instanceof Uint8Array ? token : encodeAuthToken(token),
  ]]);
const text = (value: string) => new TextEncoder().encode(value);

Deno.test("setupCredentials: no AUTHORIZATION_TOKEN is no credentials", () => {
  assertEquals(setupCredentials(new Map()), {});
});

Deno.test("setupCredentials: a USE_VALUE or REGISTER token is its UTF-8 value", () => {
  assertEquals(
    setupCredentials(withToken({ aliasType: "use_value", tokenType: 7, value: text("a.b.c") })),
    { token: "a.b.c" },
  );
  assertEquals(
    setupCredentials(
      withToken({ aliasType: "register", alias: 1, tokenType: 0, value: text("é.b.c") }),
    ),
    { token: "é.b.c" },
  );
});

Deno.test("setupCredentials: unusable tokens are typed MoqErrors with the draft's kinds", () => {
  const kindOf = (parameters: Parameters) =>
    assertThrows(() => setupCredentials(parameters), MoqError).kind;
  assertEquals(kindOf(withToken({ aliasType: "use_alias", alias: 3 })), "unknown_auth_token_alias");
  assertEquals(kindOf(withToken({ aliasType: "delete", alias: 3 })), "malformed_auth_token");
  assertEquals(
    kindOf(withToken({ aliasType: "use_value", tokenType: 0, value: new Uint8Array([0xff]) })),
    "malformed_auth_token",
  );
  // A truncated encoding: alias type USE_VALUE with no token type.
  assertEquals(kindOf(withToken(new Uint8Array([0x03]))), "malformed_auth_token");
});
