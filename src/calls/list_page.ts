/**
 * One page of a call list from calls already fetched by sid (a token limited to some sids),
 * filtered, ordered and cut as every store's time index pages, so both stores page the same.
 *
 * @module
 */
import type { Call } from "./call.ts";
import { decodeCursor, encodeCursor, type ListPosition, sortsBefore } from "./list_cursor.ts";
import type { CallFilter, CallPage } from "./store.ts";

/**
 * The page of `calls` that `filter`, `limit` and `cursor` select: the calls matching the
 * filter's status, direction and creation window, newest first (time, then sid), after the
 * cursor's position; a `nextCursor` when more are left.
 *
 * @throws {InvalidCursorError} When `cursor` is not one a store handed out
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { createCall } from "./call.ts";
 * import { pageOfCalls } from "./list_page.ts";
 * const call = (sid: string, ms: number) =>
 *   createCall({ sid, direction: "inbound", from: "+1", to: "client:a", capabilities: [], now: new Date(ms) });
 * const calls = [call("CAa", 1000), call("CAc", 3000), call("CAb", 2000)];
 * const first = pageOfCalls(calls, {}, 2);
 * assertEquals(first.calls.map((c) => c.sid), ["CAc", "CAb"]);
 * const second = pageOfCalls(calls, {}, 2, first.nextCursor);
 * assertEquals([second.calls.map((c) => c.sid), second.nextCursor], [["CAa"], undefined]);
 * ```
 */
export function pageOfCalls(
  calls: readonly Call[],
  filter: CallFilter,
  limit: number,
  cursor?: string,
): CallPage {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const found: { position: ListPosition; call: Call }[] = [];
  for (const call of calls) {
    const position = { time: Date.parse(call.createdAt), sid: call.sid };
    if (filter.status && call.status !== filter.status) continue;
    if (filter.direction && call.direction !== filter.direction) continue;
    if (filter.createdAfter !== undefined && position.time < filter.createdAfter) continue;
    if (filter.createdBefore !== undefined && position.time >= filter.createdBefore) continue;
    if (after && !sortsBefore(position, after)) continue;
    found.push({ position, call });
  }
  found.sort((a, b) => sortsBefore(a.position, b.position) ? 1 : -1);
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return found.length > limit && last
    ? { calls: page.map((f) => f.call), nextCursor: encodeCursor(last.position) }
    : { calls: page.map((f) => f.call) };
}
