/**
 * Draft-14 Key-Value-Pairs (§1.4.2): setup parameters, message parameters and the
 * AUTHORIZATION TOKEN structure.
 *
 * A pair with an even type carries one varint; an odd type carries a varint length (at
 * most 2^16-1) and that many bytes. Parameters are modelled as
 * `Map<number, number | Uint8Array>`: the value is a number for even types, bytes for odd.
 *
 * Duplicates (§9.2): a duplicate of a known parameter that the draft does not allow to
 * repeat is a PROTOCOL_VIOLATION. Duplicates of unknown parameters and of AUTHORIZATION
 * TOKEN (which MAY repeat) are accepted; since a Map holds one value per key, the first
 * occurrence is kept and later ones are dropped. A peer that sends several tokens in one
 * message therefore has all but its first ignored.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import { BufferReader, BufferWriter } from "../coding/buffer.ts";

/**
 * A parameter value: a number for even types, bytes for odd types.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type ParameterValue = draft14.ParameterValue;
 * const v: ParameterValue = 5000;
 * ```
 */
export type ParameterValue = number | Uint8Array;

/**
 * Parameters by type.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { MessageParameter } = draft14;
 * type Parameters = draft14.Parameters;
 * const params: Parameters = new Map([[MessageParameter.DELIVERY_TIMEOUT, 5000]]);
 * ```
 */
export type Parameters = Map<number, ParameterValue>;

/** Draft-14 §1.4.2: the longest value of an odd-typed Key-Value-Pair. */
export const MAX_KEY_VALUE_LENGTH = 0xffff;

/**
 * Setup parameter types (draft-14 §9.3.2), constant across MoQT versions.
 *
 * MOQT_IMPLEMENTATION: draft-14's text says type 0x05, which collides with AUTHORITY; it is
 * a typo. @moq/net 0.3.4 (and later drafts) use 0x07, so this codec does too.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { SetupParameter } = draft14;
 * const params = new Map([[SetupParameter.MAX_REQUEST_ID, 100]]);
 * ```
 */
export const SetupParameter = {
  PATH: 0x01,
  MAX_REQUEST_ID: 0x02,
  AUTHORIZATION_TOKEN: 0x03,
  MAX_AUTH_TOKEN_CACHE_SIZE: 0x04,
  AUTHORITY: 0x05,
  MOQT_IMPLEMENTATION: 0x07,
} as const;

/**
 * Version-specific message parameter types (draft-14 §9.2.1). Draft-14 defines only these
 * three; later drafts moved many message fields into parameters with other numbers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { MessageParameter } = draft14;
 * assertEquals(MessageParameter.DELIVERY_TIMEOUT, 2);
 * ```
 */
export const MessageParameter = {
  DELIVERY_TIMEOUT: 0x02,
  AUTHORIZATION_TOKEN: 0x03,
  MAX_CACHE_DURATION: 0x04,
} as const;

/**
 * Which parameter namespace a Parameters field belongs to (§9.2).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type ParameterScope = draft14.ParameterScope;
 * const scope: ParameterScope = "setup";
 * ```
 */
export type ParameterScope = "setup" | "message";

const SINGLE_SETUP = new Set<number>([
  SetupParameter.PATH,
  SetupParameter.MAX_REQUEST_ID,
  SetupParameter.MAX_AUTH_TOKEN_CACHE_SIZE,
  SetupParameter.AUTHORITY,
  SetupParameter.MOQT_IMPLEMENTATION,
]);
const SINGLE_MESSAGE = new Set<number>([
  MessageParameter.DELIVERY_TIMEOUT,
  MessageParameter.MAX_CACHE_DURATION,
]);

/**
 * Reads one Key-Value-Pair.
 *
 * @throws {MoqParseError} PROTOCOL_VIOLATION for an odd-type length above 2^16-1 (§1.4.2),
 *   KEY_VALUE_FORMATTING_ERROR for a length that runs past the end of the message
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferReader, readKeyValuePair } = draft14;
 * // An odd type: its value is length-prefixed bytes.
 * assertEquals(readKeyValuePair(new BufferReader(new Uint8Array([0x01, 0x01, 0x2f]))), {
 *   type: 1,
 *   value: new Uint8Array([0x2f]),
 * });
 * ```
 */
export function readKeyValuePair(reader: BufferReader): { type: number; value: ParameterValue } {
  const type = reader.varint();
  if (type % 2 === 0) return { type, value: reader.varint() };
  const length = reader.varint();
  if (length > MAX_KEY_VALUE_LENGTH) {
    throw reader.error(`parameter 0x${type.toString(16)} length ${length} exceeds 65535`);
  }
  if (length > reader.remaining) {
    throw reader.error(
      `parameter 0x${type.toString(16)} length past the end of the message`,
      "key_value_formatting",
    );
  }
  return { type, value: reader.bytes(length) };
}

/**
 * Writes one Key-Value-Pair.
 *
 * @throws {TypeError} If the value's kind does not match the type's parity
 * @throws {RangeError} If bytes are longer than 2^16-1
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferWriter, writeKeyValuePair } = draft14;
 * const w = new BufferWriter();
 * writeKeyValuePair(w, 2, 100);
 * assertEquals(w.finish(), new Uint8Array([0x02, 0x40, 0x64]));
 * ```
 */
export function writeKeyValuePair(writer: BufferWriter, type: number, value: ParameterValue): void {
  if (type % 2 === 0) {
    if (typeof value !== "number") {
      throw new TypeError(
        `Cannot encode parameter 0x${type.toString(16)}: even types carry a number`,
      );
    }
    writer.varint(type).varint(value);
  } else {
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`Cannot encode parameter 0x${type.toString(16)}: odd types carry bytes`);
    }
    writer.varint(type).lengthPrefixedBytes(value, MAX_KEY_VALUE_LENGTH);
  }
}

/**
 * Reads a Parameters field: a count, then that many Key-Value-Pairs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferReader, readParameters } = draft14;
 * const params = readParameters(new BufferReader(new Uint8Array([1, 0x02, 0x0a])), "setup");
 * assertEquals(params.get(2), 10);
 * ```
 */
export function readParameters(reader: BufferReader, scope: ParameterScope): Parameters {
  const count = reader.varint();
  // Each pair takes at least two bytes: a hostile count fails here, before any loop.
  if (count * 2 > reader.remaining) {
    throw reader.error(`${count} parameters do not fit in the message`);
  }
  const single = scope === "setup" ? SINGLE_SETUP : SINGLE_MESSAGE;
  const params: Parameters = new Map();
  for (let i = 0; i < count; i++) {
    const { type, value } = readKeyValuePair(reader);
    if (params.has(type)) {
      if (single.has(type)) {
        throw reader.error(`duplicate parameter 0x${type.toString(16)}`);
      }
      continue;
    }
    params.set(type, value);
  }
  return params;
}

/**
 * Writes a Parameters field: a count, then each pair in the Map's order.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { BufferWriter, writeParameters } = draft14;
 * const w = new BufferWriter();
 * writeParameters(w, new Map([[4, 1000]]));
 * assertEquals(w.finish(), new Uint8Array([0x01, 0x04, 0x43, 0xe8]));
 * ```
 */
export function writeParameters(writer: BufferWriter, params: Parameters): void {
  writer.varint(params.size);
  for (const [type, value] of params) writeKeyValuePair(writer, type, value);
}

/**
 * Encodes a Parameters field on its own.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeParameters } = draft14;
 * assertEquals(encodeParameters(new Map()), new Uint8Array([0]));
 * ```
 */
export function encodeParameters(params: Parameters): Uint8Array {
  const w = new BufferWriter(16);
  writeParameters(w, params);
  return w.finish();
}

/**
 * Decodes a Parameters field that fills `bytes` exactly.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeParameters } = draft14;
 * assertEquals(decodeParameters(new Uint8Array([1, 0x02, 0x0a]), "message").get(2), 10);
 * ```
 */
export function decodeParameters(bytes: Uint8Array, scope: ParameterScope): Parameters {
  const reader = new BufferReader(bytes, "parameters");
  const params = readParameters(reader, scope);
  reader.expectEnd();
  return params;
}

/**
 * Alias Type of an AUTHORIZATION TOKEN (draft-14 §9.2.1.1, Table 2).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { AuthTokenAliasType } = draft14;
 * assertEquals(AuthTokenAliasType.USE_VALUE, 3);
 * ```
 */
export const AuthTokenAliasType = {
  DELETE: 0x0,
  REGISTER: 0x1,
  USE_ALIAS: 0x2,
  USE_VALUE: 0x3,
} as const;

/**
 * A decoded AUTHORIZATION TOKEN value (draft-14 Figure 4).
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type AuthToken = draft14.AuthToken;
 * const token: AuthToken = { aliasType: "use_value", tokenType: 0, value: new Uint8Array([1]) };
 * ```
 */
export type AuthToken =
  | { aliasType: "delete"; alias: number }
  | { aliasType: "register"; alias: number; tokenType: number; value: Uint8Array }
  | { aliasType: "use_alias"; alias: number }
  | { aliasType: "use_value"; tokenType: number; value: Uint8Array };

/**
 * Decodes an AUTHORIZATION TOKEN parameter value.
 *
 * @throws {MoqParseError} KEY_VALUE_FORMATTING_ERROR if the structure cannot be decoded
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { decodeAuthToken } = draft14;
 * assertEquals(decodeAuthToken(new Uint8Array([0x02, 0x07])), { aliasType: "use_alias", alias: 7 });
 * ```
 */
export function decodeAuthToken(bytes: Uint8Array): AuthToken {
  const r = new BufferReader(bytes, "AUTHORIZATION TOKEN");
  const kind = "key_value_formatting";
  try {
    const aliasType = r.varint();
    let token: AuthToken;
    switch (aliasType) {
      case AuthTokenAliasType.DELETE:
        token = { aliasType: "delete", alias: r.varint() };
        break;
      case AuthTokenAliasType.REGISTER: {
        const alias = r.varint();
        const tokenType = r.varint();
        token = { aliasType: "register", alias, tokenType, value: r.rest() };
        break;
      }
      case AuthTokenAliasType.USE_ALIAS:
        token = { aliasType: "use_alias", alias: r.varint() };
        break;
      case AuthTokenAliasType.USE_VALUE: {
        const tokenType = r.varint();
        token = { aliasType: "use_value", tokenType, value: r.rest() };
        break;
      }
      default:
        throw r.error(`unknown alias type ${aliasType}`, kind);
    }
    r.expectEnd();
    return token;
  } catch (err) {
    if (err instanceof MoqParseError && err.kind === kind) throw err;
    throw r.error((err as Error).message.replace(/^Cannot decode [^:]*: /, ""), kind);
  }
}

/**
 * Encodes an AUTHORIZATION TOKEN parameter value.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { encodeAuthToken } = draft14;
 * assertEquals(encodeAuthToken({ aliasType: "delete", alias: 7 }), new Uint8Array([0x00, 0x07]));
 * ```
 */
export function encodeAuthToken(token: AuthToken): Uint8Array {
  const w = new BufferWriter(16);
  switch (token.aliasType) {
    case "delete":
      w.varint(AuthTokenAliasType.DELETE).varint(token.alias);
      break;
    case "register":
      w.varint(AuthTokenAliasType.REGISTER).varint(token.alias).varint(token.tokenType)
        .bytes(token.value);
      break;
    case "use_alias":
      w.varint(AuthTokenAliasType.USE_ALIAS).varint(token.alias);
      break;
    case "use_value":
      w.varint(AuthTokenAliasType.USE_VALUE).varint(token.tokenType).bytes(token.value);
      break;
  }
  return w.finish();
}
