/**
 * Call endpoints: an E.164 number (`+14155550100`), a SIP URI (`sip:alice@example.com`) or a
 * registered SDK/browser client (`client:alice`).
 *
 * @module
 */

/** A parsed call endpoint. */
export type Address =
  | { readonly kind: "e164"; readonly value: string }
  | { readonly kind: "sip"; readonly value: string }
  | { readonly kind: "client"; readonly value: string; readonly identity: string };

/** E.164: a `+`, a non-zero country digit, at most 15 digits in all. */
export const E164 = /^\+[1-9][0-9]{1,14}$/;
/** A client identity: 1–128 of `A-Z a-z 0-9 . _ @ -`. */
export const CLIENT_IDENTITY = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
/** A `sip:`/`sips:` URI with a user and a host, no whitespace. */
export const SIP_URI = /^sips?:[^\s@]+@[^\s@]+$/;

/**
 * Parses an endpoint; throws `TypeError` with the reason when it is none of the three forms.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseAddress } from "./address.ts";
 * assertEquals(parseAddress("client:alice"), { kind: "client", value: "client:alice", identity: "alice" });
 * ```
 */
export function parseAddress(value: string): Address {
  if (value.startsWith("client:")) {
    const identity = value.slice("client:".length);
    if (!CLIENT_IDENTITY.test(identity)) {
      throw new TypeError(`Invalid client address: "${value}"`);
    }
    return { kind: "client", value, identity };
  }
  if (value.startsWith("sip:") || value.startsWith("sips:")) {
    if (!SIP_URI.test(value)) throw new TypeError(`Invalid SIP URI: "${value}"`);
    return { kind: "sip", value };
  }
  if (!E164.test(value)) {
    throw new TypeError(
      `Invalid phone number: "${value}" is not E.164 (a "+" then 2 to 15 digits)`,
    );
  }
  return { kind: "e164", value };
}

/**
 * True when `value` parses as an address.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isAddress } from "./address.ts";
 * assertEquals([isAddress("+14155550100"), isAddress("0800 123")], [true, false]);
 * ```
 */
export function isAddress(value: string): boolean {
  try {
    parseAddress(value);
    return true;
  } catch (error) {
    if (error instanceof TypeError) return false; // parseAddress's refusal: not an address
    throw error;
  }
}
