/**
 * The scopes a token can carry, in its space-separated `scope` claim (RFC 8693 §4.2 style).
 *
 * @module
 */

/**
 * Every scope the server knows. Unknown scopes in a token are ignored, so a token minted for a
 * newer server still works here with what this server understands.
 *
 * | Scope             | Allows                                                          |
 * | ----------------- | --------------------------------------------------------------- |
 * | `calls:read`      | `GET /v1/calls`, `GET /v1/calls/{sid}`, call events             |
 * | `calls:write`     | originate, transfer, hang up                                    |
 * | `media:publish`   | MoQT PUBLISH_NAMESPACE and PUBLISH                              |
 * | `media:subscribe` | MoQT SUBSCRIBE and SUBSCRIBE_NAMESPACE                          |
 * | `agents:write`    | registering agents and clients that take calls                  |
 * | `relay:read`      | `GET /v1/relay/stats` (the relay's live counters)               |
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import { SCOPES } from "./scope.ts";
 * assert(SCOPES.includes("calls:write")); // SCOPES.join(" ") is the scope claim of an all-powerful token
 * ```
 */
export const SCOPES = [
  "calls:read",
  "calls:write",
  "media:publish",
  "media:subscribe",
  "agents:write",
  "relay:read",
] as const;

/** One known scope. */
export type Scope = (typeof SCOPES)[number];

const KNOWN: ReadonlySet<string> = new Set(SCOPES);

/**
 * True when `value` names a known scope.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { isScope } from "./scope.ts";
 * assertEquals([isScope("calls:read"), isScope("calls:admin")], [true, false]);
 * ```
 */
export function isScope(value: string): value is Scope {
  return KNOWN.has(value);
}

/**
 * The known scopes of a `scope` claim (space-separated; unknown ones dropped).
 *
 * @throws {TypeError} When the claim is present but not a string
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseScopeClaim } from "./scope.ts";
 * assertEquals(
 *   parseScopeClaim("calls:read  media:subscribe future:thing"),
 *   new Set(["calls:read", "media:subscribe"]),
 * );
 * ```
 */
export function parseScopeClaim(claim: unknown): ReadonlySet<Scope> {
  if (claim === undefined) return new Set();
  if (typeof claim !== "string") {
    throw new TypeError(`Invalid scope claim: expected a space-separated string`);
  }
  return new Set(claim.split(" ").filter(isScope));
}
