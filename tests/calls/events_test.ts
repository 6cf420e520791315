import { assertEquals, assertNotEquals } from "@std/assert";
import { EventHub } from "../../src/calls/events.ts";

Deno.test("EventHub.wants: a call's own listener, or an any-call listener that did not narrow its types or named the type", () => {
  const hub = new EventHub();
  assertEquals(hub.wants("CA1", "speech"), false);
  const v0 = hub.version;
  const stopStatus = hub.onAnyCall(() => {}, ["status"]);
  assertNotEquals(hub.version, v0);
  assertEquals([hub.wants("CA1", "speech"), hub.wants("CA1", "status")], [false, true]);
  const stopCall = hub.onCall("CA1", () => {});
  assertEquals([hub.wants("CA1", "speech"), hub.wants("CA2", "speech")], [true, false]);
  stopCall();
  assertEquals(hub.wants("CA1", "speech"), false);
  const all = () => {};
  const stopAll = hub.onAnyCall(all);
  assertEquals(hub.wants("CA2", "speech"), true);
  const v1 = hub.version;
  stopAll();
  stopAll(); // twice: a no-op
  assertEquals([hub.wants("CA2", "speech"), hub.version], [false, v1 + 1]);
  stopStatus();
});

Deno.test("EventHub: a narrowed any-call listener still receives every event type", () => {
  const hub = new EventHub();
  const seen: string[] = [];
  const stop = hub.onAnyCall((e) => seen.push(e.type), ["status"]);
  const at = new Date().toISOString();
  hub.emitCall({ type: "speech", sid: "CA1", at, state: "start" });
  stop();
  assertEquals(seen, ["speech"]);
});
