import { assertEquals, assertThrows } from "@std/assert";
import { MoqParseError } from "../../../../src/relay/error.ts";
import {
  SessionErrorCode,
  sessionErrorCode,
} from "../../../../src/relay/wire/draft14/error_codes.ts";
import { BufferReader, BufferWriter } from "../../../../src/relay/wire/coding/buffer.ts";
import {
  AuthTokenAliasType,
  decodeAuthToken,
  decodeParameters,
  encodeAuthToken,
  encodeParameters,
  MessageParameter,
  readParameters,
  SetupParameter,
} from "../../../../src/relay/wire/draft14/parameters.ts";

Deno.test("parameters encode even types as varints and odd types as length-prefixed bytes", () => {
  const bytes = encodeParameters(
    new Map<number, number | Uint8Array>([
      [SetupParameter.MAX_REQUEST_ID, 100],
      [SetupParameter.PATH, new TextEncoder().encode("/moq")],
    ]),
  );
  assertEquals(bytes, new Uint8Array([0x02, 0x02, 0x40, 0x64, 0x01, 0x04, 0x2f, 0x6d, 0x6f, 0x71]));
});

Deno.test("parameters round-trip in both scopes, including empty and maximal values", () => {
  const params = new Map<number, number | Uint8Array>([
    [MessageParameter.DELIVERY_TIMEOUT, Number.MAX_SAFE_INTEGER],
    [MessageParameter.MAX_CACHE_DURATION, 0],
    [0x21, new Uint8Array()],
    [0x41, new Uint8Array(0xffff).fill(7)],
  ]);
  for (const scope of ["setup", "message"] as const) {
    assertEquals(decodeParameters(encodeParameters(params), scope), params);
  }
  assertEquals(decodeParameters(encodeParameters(new Map()), "message"), new Map());
});

Deno.test("setup and message parameter numbers match draft-14 (implementation is 0x07 as @moq/net)", () => {
  assertEquals(SetupParameter, {
    PATH: 1,
    MAX_REQUEST_ID: 2,
    AUTHORIZATION_TOKEN: 3,
    MAX_AUTH_TOKEN_CACHE_SIZE: 4,
    AUTHORITY: 5,
    MOQT_IMPLEMENTATION: 7,
  });
  assertEquals(MessageParameter, {
    DELIVERY_TIMEOUT: 2,
    AUTHORIZATION_TOKEN: 3,
    MAX_CACHE_DURATION: 4,
  });
});

Deno.test("a parameter length running past the message is a key-value formatting error", () => {
  const err = assertThrows(
    () => decodeParameters(new Uint8Array([0x01, 0x03, 0x05, 0xaa]), "setup"),
    MoqParseError,
  );
  assertEquals(sessionErrorCode(err), SessionErrorCode.KEY_VALUE_FORMATTING_ERROR);
});

Deno.test("a parameter length above 65535 is a protocol violation", () => {
  const w = new BufferWriter().varint(1).varint(0x03).varint(0x10000).bytes(
    new Uint8Array(0x10000),
  );
  const err = assertThrows(
    () => decodeParameters(w.finish(), "message"),
    MoqParseError,
    "exceeds 65535",
  );
  assertEquals(sessionErrorCode(err), SessionErrorCode.PROTOCOL_VIOLATION);
});

Deno.test("a duplicate known single-valued parameter is a protocol violation", () => {
  const setupDup = new Uint8Array([0x02, 0x02, 0x01, 0x02, 0x02]);
  const err = assertThrows(() => decodeParameters(setupDup, "setup"), MoqParseError, "duplicate");
  assertEquals(sessionErrorCode(err), SessionErrorCode.PROTOCOL_VIOLATION);
  assertThrows(
    () => decodeParameters(new Uint8Array([0x02, 0x04, 0x01, 0x04, 0x02]), "message"),
    MoqParseError,
  );
});

Deno.test("duplicates of unknown parameters and of AUTHORIZATION TOKEN are accepted, first kept", () => {
  const unknown = decodeParameters(new Uint8Array([0x02, 0x2a, 0x01, 0x2a, 0x02]), "message");
  assertEquals(unknown.get(0x2a), 1);
  const tokens = decodeParameters(
    new Uint8Array([0x02, 0x03, 0x01, 0xaa, 0x03, 0x01, 0xbb]),
    "message",
  );
  assertEquals(tokens.get(0x03), new Uint8Array([0xaa]));
  // A parameter number that is single in one scope is unknown in the other.
  // PATH (0x01) is single-valued in setup parameters but unknown among message parameters.
  const path = new Uint8Array([0x02, 0x01, 0x01, 0xaa, 0x01, 0x01, 0xbb]);
  assertEquals(decodeParameters(path, "message").get(0x01), new Uint8Array([0xaa]));
  assertThrows(() => decodeParameters(path, "setup"), MoqParseError, "duplicate");
});

Deno.test("a hostile parameter count is rejected before looping", () => {
  assertThrows(
    () => decodeParameters(new Uint8Array([0xc0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]), "message"),
    MoqParseError,
  );
});

Deno.test("parameter trailing bytes and truncation are parse errors", () => {
  assertThrows(() => decodeParameters(new Uint8Array([0x00, 0x00]), "message"), MoqParseError);
  assertThrows(() => decodeParameters(new Uint8Array([0x01, 0x02]), "message"), MoqParseError);
  assertThrows(() => readParameters(new BufferReader(new Uint8Array()), "setup"), MoqParseError);
});

Deno.test("encoding a parameter whose value kind does not match its parity is a TypeError", () => {
  assertThrows(() => encodeParameters(new Map([[2, new Uint8Array()]])), TypeError);
  assertThrows(() => encodeParameters(new Map([[3, 1]])), TypeError);
  assertThrows(() => encodeParameters(new Map([[3, new Uint8Array(0x10000)]])), RangeError);
});

Deno.test("authorization tokens round-trip every alias type", () => {
  const value = new TextEncoder().encode("jwt.token");
  const tokens = [
    { aliasType: "delete", alias: 3 },
    { aliasType: "register", alias: 1, tokenType: 0, value },
    { aliasType: "use_alias", alias: 1 },
    { aliasType: "use_value", tokenType: 5, value },
  ] as const;
  for (const token of tokens) assertEquals(decodeAuthToken(encodeAuthToken(token)), token);
  assertEquals(
    encodeAuthToken({ aliasType: "use_alias", alias: 9 }),
    new Uint8Array([AuthTokenAliasType.USE_ALIAS, 9]),
  );
});

Deno.test("an undecodable authorization token is a key-value formatting error", () => {
  for (const bad of [[], [0x07, 1], [0x00], [0x00, 1, 2], [0x01, 1]]) {
    const err = assertThrows(() => decodeAuthToken(new Uint8Array(bad)), MoqParseError);
    assertEquals(
      sessionErrorCode(err),
      SessionErrorCode.KEY_VALUE_FORMATTING_ERROR,
      `token ${bad}`,
    );
  }
});
