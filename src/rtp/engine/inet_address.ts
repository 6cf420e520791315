/**
 * Socket addresses as the native engines take them (ffi/pkt/src_filter.h): 16 bytes in
 * network order, an IPv4 address IPv4-mapped (`::ffff:a.b.c.d`), so that one peer is one
 * source whether an IPv4 socket or a dual-stack IPv6 socket saw it. And back to the
 * hostname text the Deno engine reports (`"192.0.2.1"`, `"2001:db8::1"`).
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/**
 * `hostname` (an IPv4 or IPv6 literal, no brackets) as 16 bytes, IPv4 IPv4-mapped; written
 * into `out` when given (no allocation per call).
 *
 * @throws {TypeError} when `hostname` is not an IP address literal.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { inetBytes } from "./inet_address.ts";
 * assertEquals([...inetBytes("192.0.2.1").subarray(10)], [0xff, 0xff, 192, 0, 2, 1]);
 * assertEquals(inetBytes("::1")[15], 1);
 * ```
 */
export function inetBytes(hostname: string, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  if (ipaddr.IPv4.isValidFourPartDecimal(hostname)) {
    out.set(ipaddr.IPv4.parse(hostname).toIPv4MappedAddress().toByteArray());
  } else if (ipaddr.IPv6.isValid(hostname)) {
    out.set(ipaddr.IPv6.parse(hostname).toByteArray());
  } else {
    throw new TypeError(`Invalid IP address: "${hostname}" is not an IPv4 or IPv6 literal`);
  }
  return out;
}

/** Whether `hostname` is an IPv6 literal that is not IPv4-mapped (a native socket family 6). */
export function isIpv6(hostname: string): boolean {
  if (!ipaddr.IPv6.isValid(hostname)) return false;
  return !ipaddr.IPv6.parse(hostname).isIPv4MappedAddress();
}

/**
 * 16 address bytes as hostname text: an IPv4-mapped address as dotted IPv4, else RFC 5952
 * IPv6 (`"2001:db8::1"`), as Deno reports a datagram's source.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { inetBytes, inetText } from "./inet_address.ts";
 * assertEquals(inetText(inetBytes("::ffff:192.0.2.1")), "192.0.2.1");
 * assertEquals(inetText(inetBytes("2001:0db8:0:0:0:0:0:1")), "2001:db8::1");
 * ```
 */
export function inetText(bytes: Uint8Array): string {
  const ip = ipaddr.fromByteArray([...bytes.subarray(0, 16)]) as ipaddr.IPv6;
  return ip.isIPv4MappedAddress() ? ip.toIPv4Address().toString() : ip.toString();
}
