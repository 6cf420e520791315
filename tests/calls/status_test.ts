import { assertEquals, assertThrows } from "@std/assert";
import {
  CALL_STATUSES,
  canTransition,
  IllegalTransitionError,
  isTerminal,
  transition,
} from "../../src/calls/status.ts";
import { advanceCall, createCall } from "../../src/calls/call.ts";
import { parseAddress } from "../../src/calls/address.ts";

Deno.test("the call state machine only moves forward and terminal statuses have no way out", () => {
  const forward = [
    ["dialing", "ringing"],
    ["dialing", "in_progress"],
    ["ringing", "in_progress"],
    ["ringing", "no_answer"],
    ["in_progress", "completed"],
    ["in_progress", "failed"],
  ] as const;
  for (const [from, to] of forward) assertEquals(transition(from, to), to);
  for (const from of CALL_STATUSES.filter(isTerminal)) {
    for (const to of CALL_STATUSES) assertEquals(canTransition(from, to), false);
  }
  assertThrows(() => transition("in_progress", "ringing"), IllegalTransitionError);
  assertThrows(() => transition("in_progress", "no_answer"), IllegalTransitionError);
  assertThrows(() => transition("ringing", "ringing"), IllegalTransitionError);
});

Deno.test("advancing a call stamps the time of each status and requires an end reason to end", () => {
  const call = createCall({
    sid: "CA1",
    direction: "outbound",
    from: "+14155550100",
    to: "client:a",
    capabilities: ["voice/opus"],
    now: new Date(0),
  });
  const ringing = advanceCall(call, "ringing", undefined, new Date(1000));
  assertEquals(ringing.times, {
    dialing: "1970-01-01T00:00:00.000Z",
    ringing: "1970-01-01T00:00:01.000Z",
  });
  assertThrows(() => advanceCall(ringing, "completed"), IllegalTransitionError);
  const done = advanceCall(ringing, "completed", "canceled");
  assertEquals([done.status, done.endReason], ["completed", "canceled"]);
});

Deno.test("addresses: E.164, sip: URIs and client identities; anything else is refused", () => {
  assertEquals(parseAddress("+14155550100").kind, "e164");
  assertEquals(parseAddress("sip:bob@example.com").kind, "sip");
  assertEquals(parseAddress("client:alice"), {
    kind: "client",
    value: "client:alice",
    identity: "alice",
  });
  for (
    const bad of [
      "14155550100",
      "+0123",
      "+1234567890123456",
      "sip:nohost",
      "client:",
      "client:a b",
    ]
  ) {
    assertThrows(() => parseAddress(bad), TypeError);
  }
});
