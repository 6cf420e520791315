import { assertEquals, assertThrows } from "@std/assert";
import { AuthError, Grant, parseVoiceClaim, type ResourceLimits } from "../../src/auth/mod.ts";
import type { Scope } from "../../src/auth/mod.ts";

function grant(limits?: ResourceLimits, scopes: Scope[] = ["media:publish", "media:subscribe"]) {
  return new Grant({ scopes: new Set(scopes), limits, expiresAt: new Date(Date.now() + 60_000) });
}

Deno.test("a token without a voice claim allows every call and namespace", () => {
  const g = grant();
  assertEquals([g.unrestricted, g.allowsAnySid, g.allowsSid("CA1")], [true, true, true]);
  assertEquals(g.allowsNamespace(["anything", "at", "all"]), true);
});

Deno.test("sids allow their call's namespace and below, nothing else", () => {
  const g = grant({ sids: ["CA1"] });
  assertEquals([g.allowsSid("CA1"), g.allowsSid("CA2"), g.allowsSid("CA")], [true, false, false]);
  assertEquals(g.allowsNamespace(["voice", "CA1"]), true);
  assertEquals(g.allowsNamespace(["voice", "CA1", "sub"]), true);
  assertEquals(g.allowsNamespace(["voice", "CA10"]), false, "element-wise, not string prefix");
  assertEquals(g.allowsNamespace(["voice"]), false, "a broader prefix is not allowed");
  assertEquals(g.allowsNamespace([]), false);
  assertEquals(g.allowsAnySid, false);
  assertThrows(() => g.requireSid("CA2"), AuthError, 'Token does not allow call "CA2"');
});

Deno.test("a namespace prefix allows what starts with it, element-wise", () => {
  const all = grant({ prefix: ["voice"] });
  assertEquals([all.allowsSid("CA7"), all.allowsAnySid], [true, true]);
  assertEquals(all.allowsNamespace(["agents"]), false);
  const agent = grant({ prefix: ["agents", "a1"] });
  assertEquals([agent.allowsSid("CA7"), agent.allowsNamespace(["agents", "a1", "x"])], [
    false,
    true,
  ]);
  const both = grant({ sids: ["CA1"], prefix: ["agents"] });
  assertEquals([both.allowsSid("CA1"), both.allowsNamespace(["agents", "z"])], [true, true]);
  assertEquals(grant({}).allowsSid("CA1"), false, "an empty voice claim allows nothing");
});

Deno.test("MoQT checks need media:publish / media:subscribe and the limits", () => {
  const sub = grant({ sids: ["CA1"] }, ["media:subscribe"]).authorizeMoq();
  assertEquals(sub("subscribe", ["voice", "CA1"]), true);
  assertEquals(sub("subscribe", ["voice", "CA2"]), false);
  assertEquals(sub("publish", ["voice", "CA1"]), false);
  const expired = new Grant({
    scopes: new Set(["media:subscribe"]),
    expiresAt: new Date(Date.now() - 1),
  }).authorizeMoq();
  assertEquals(expired("subscribe", ["voice", "CA1"]), false, "nothing after expiry");
});

Deno.test("require() names the missing scope", () => {
  const error = assertThrows(() => grant().require("calls:write"), AuthError);
  assertEquals([error.kind, error.scope, error.status], ["insufficient_scope", "calls:write", 403]);
});

Deno.test("voice claims are validated", () => {
  assertEquals(parseVoiceClaim({ sids: ["CA1"], prefix: ["voice"] }), {
    sids: ["CA1"],
    prefix: ["voice"],
  });
  assertThrows(() => parseVoiceClaim("CA1"), TypeError, "expected an object");
  assertThrows(() => parseVoiceClaim({ sids: "CA1" }), TypeError, "sids must be an array");
  assertThrows(() => parseVoiceClaim({ sids: [1] }), TypeError, "sids must be strings");
  assertThrows(
    () => parseVoiceClaim({ prefix: "voice/CA1" }),
    TypeError,
    "prefix must be an array",
  );
  assertThrows(() => parseVoiceClaim({ prefix: [1] }), TypeError, "prefix must be an array");
});

Deno.test("clients and originate claims: who may act for a client and who may create calls", () => {
  const alice = grant({ clients: ["alice"] });
  assertEquals([alice.allowsClient("alice"), alice.allowsClient("bob")], [true, false]);
  assertEquals([alice.allowsOriginate, alice.allowsSid("CA1"), alice.visibleSids()], [
    false,
    false,
    [],
  ]);
  assertThrows(() => alice.requireClient("bob"), AuthError, 'client "bob"');
  assertThrows(() => grant({ sids: ["CA1"] }).requireOriginate(), AuthError, "originate");
  assertEquals(grant({ sids: ["CA1"], originate: true }).allowsOriginate, true);
  assertEquals(grant({ prefix: ["voice"] }).allowsOriginate, true);
  assertEquals(grant().allowsClient("anyone"), true);
  assertEquals(grant({ prefix: ["voice"] }).allowsClient("alice"), false);
  assertEquals(grant({ prefix: ["voice"] }).visibleSids(), undefined);
  assertEquals(grant({ sids: ["CA1"], prefix: ["voice", "CA2"] }).visibleSids(), ["CA1", "CA2"]);
  assertEquals(grant({ prefix: ["voice", "CA2", "deeper"] }).visibleSids(), []);
  assertThrows(() => parseVoiceClaim({ clients: "alice" }), TypeError, "clients");
  assertThrows(() => parseVoiceClaim({ clients: ["bad identity"] }), TypeError, "clients");
  assertThrows(() => parseVoiceClaim({ originate: "yes" }), TypeError, "originate");
  assertEquals(parseVoiceClaim({ clients: ["alice"], originate: true }), {
    clients: ["alice"],
    originate: true,
  });
});
