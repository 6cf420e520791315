import { assertEquals, assertThrows } from "@std/assert";
import { advanceCall } from "../../src/calls/call.ts";
import { encodeCursor } from "../../src/calls/list_cursor.ts";
import { pageOfCalls } from "../../src/calls/list_page.ts";
import { InvalidCursorError } from "../../src/calls/store.ts";
import { callAt } from "./_store_contract.ts";

const sids = (page: { calls: readonly { sid: string }[] }) => page.calls.map((c) => c.sid);

Deno.test("pageOfCalls orders newest first, ties by sid (descending), and pages with a cursor until none is left", () => {
  const calls = [
    callAt("CA1", 1000),
    callAt("CA3", 3000),
    callAt("CA2b", 2000),
    callAt("CA2", 2000),
  ];
  const first = pageOfCalls(calls, {}, 2);
  assertEquals(sids(first), ["CA3", "CA2b"]);
  assertEquals(first.nextCursor, encodeCursor({ time: 2000, sid: "CA2b" }));
  const second = pageOfCalls(calls, {}, 2, first.nextCursor);
  assertEquals(sids(second), ["CA2", "CA1"]);
  assertEquals(second.nextCursor, undefined, "the last page has no cursor");
  assertEquals(pageOfCalls(calls, {}, 4).nextCursor, undefined, "exactly a page: no cursor");
  assertEquals(pageOfCalls([], {}, 4), { calls: [] });
});

Deno.test("pageOfCalls applies status, direction and the creation window [after, before)", () => {
  const answered = advanceCall(
    callAt("CAin", 2000, "inbound"),
    "ringing",
    undefined,
    new Date(2001),
  );
  const calls = [callAt("CA1", 1000), answered, callAt("CA3", 3000), callAt("CA4", 4000)];
  assertEquals(sids(pageOfCalls(calls, { direction: "inbound" }, 10)), ["CAin"]);
  assertEquals(sids(pageOfCalls(calls, { status: "dialing" }, 10)), ["CA4", "CA3", "CA1"]);
  assertEquals(
    sids(pageOfCalls(calls, { createdAfter: 2000, createdBefore: 4000 }, 10)),
    ["CA3", "CAin"],
  );
});

Deno.test("pageOfCalls refuses a cursor no store handed out", () => {
  assertThrows(() => pageOfCalls([callAt("CA1", 1000)], {}, 1, "not-a-cursor"), InvalidCursorError);
});
