/**
 * The list cursor every call store hands out: the `[createdAtMs, sid]` of the last
 * call of a page, base64url JSON, so a cursor means the same on Deno KV and on Redis.
 *
 * @module
 */
import { InvalidCursorError } from "./store.ts";

/** Where a page ended: the creation time (ms) and sid of its last call. */
export interface ListPosition {
  readonly time: number;
  readonly sid: string;
}

/**
 * Encodes a position as an opaque cursor.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeCursor, encodeCursor } from "./list_cursor.ts";
 * const cursor = encodeCursor({ time: 1000, sid: "CAa" });
 * assertEquals(decodeCursor(cursor), { time: 1000, sid: "CAa" });
 * ```
 */
export function encodeCursor(position: ListPosition): string {
  return btoa(JSON.stringify([position.time, position.sid])).replaceAll("+", "-")
    .replaceAll("/", "_").replaceAll("=", "");
}

/**
 * Decodes a cursor from {@linkcode encodeCursor}; anything else is an
 * {@linkcode InvalidCursorError}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { decodeCursor } from "./list_cursor.ts";
 * try {
 *   decodeCursor("nope");
 * } catch (error) {
 *   assertEquals((error as Error).name, "InvalidCursorError");
 * }
 * ```
 */
export function decodeCursor(cursor: string): ListPosition {
  try {
    const json = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const [time, sid] = JSON.parse(json);
    if (typeof time !== "number" || typeof sid !== "string") throw new Error("Not [time, sid]");
    return { time, sid };
  } catch (error) {
    // atob's DOMException, JSON's SyntaxError or the shape check: a cursor we did not issue.
    throw new InvalidCursorError({ cause: error });
  }
}

/**
 * True when `a` sorts before `b` in list order (time, then sid), as both stores order them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sortsBefore } from "./list_cursor.ts";
 * assertEquals(sortsBefore({ time: 1, sid: "b" }, { time: 2, sid: "a" }), true);
 * ```
 */
export function sortsBefore(a: ListPosition, b: ListPosition): boolean {
  return a.time < b.time || (a.time === b.time && a.sid < b.sid);
}
