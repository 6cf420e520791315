/**
 * MoQT auth through a real relay over real raw QUIC and real WebTransport: the connection's
 * token decides whether the session is set up (else the draft-14 session code), and each
 * publish or subscribe outside the token's scope or limits gets the draft's UNAUTHORIZED
 * request error while the session stays up for in-scope requests.
 */
import { assert, assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { createTokenVerifier, moqAuthorizer, signToken } from "../../src/auth/mod.ts";
import { MoqClient } from "../../src/relay/client.ts";
import { MoqError } from "../../src/relay/error.ts";
import { SessionErrorCode, sessionErrorCode } from "../../src/relay/wire/draft14/error_codes.ts";
import { type ControlMessage, encodeAuthToken } from "../../src/relay/wire/draft14/mod.ts";
import { startRelay, testLogger } from "../_lib/relay_fixture.ts";
import { probe, type ProbeKind } from "./_moq_probe.ts";
import { waitFor } from "../_lib/wait.ts";
import { claims, hmac, OTHER_SECRET, SECRET } from "./_tokens.ts";

const verifier = await createTokenVerifier({ hs256Secret: SECRET });
const authRelay = () =>
  startRelay({ authorizeConnection: moqAuthorizer(verifier), subscribeTimeoutMs: 200 });
const token = (options: Partial<Parameters<typeof signToken>[0]> = {}) =>
  signToken({ hs256Secret: SECRET, scopes: ["media:publish", "media:subscribe"], ...options });

const publishNamespace = (requestId: number, sid: string): ControlMessage => ({
  type: "publish_namespace",
  requestId,
  namespace: ["voice", sid],
  parameters: new Map(),
});
const publish = (requestId: number, sid: string): ControlMessage => ({
  type: "publish",
  requestId,
  namespace: ["voice", sid],
  name: "uplink",
  trackAlias: requestId + 1,
  groupOrder: 1,
  forward: true,
  parameters: new Map(),
});
const subscribe = (requestId: number, namespace: string[]): ControlMessage => ({
  type: "subscribe",
  requestId,
  namespace,
  name: "downlink",
  subscriberPriority: 128,
  groupOrder: 0,
  forward: true,
  filter: { type: "largest_object" },
  parameters: new Map(),
});
const subscribeNamespace = (requestId: number, prefix: string[]): ControlMessage => ({
  type: "subscribe_namespace",
  requestId,
  namespacePrefix: prefix,
  parameters: new Map(),
});

/** Where each transport carries the token by default. */
const carry = (kind: ProbeKind, jwt: string) =>
  kind === "quic" ? { setupToken: jwt } : { queryToken: jwt };

for (const kind of ["quic", "webtransport"] as const) {
  Deno.test(`MoQT over ${kind}: no token closes the session with UNAUTHORIZED`, async () => {
    await using fx = await authRelay();
    await using p = await probe(kind, { port: fx.port, cert: fx.cert });
    assertEquals(p.setupReply, undefined, "no SERVER_SETUP");
    const closed = await p.closed;
    assertEquals(closed.code, SessionErrorCode.UNAUTHORIZED, closed.reason);
  });

  Deno.test(`MoQT over ${kind}: forged, malformed and expired tokens get their session codes`, async () => {
    await using fx = await authRelay();
    const cases: [string, number][] = [
      [
        await hmac("HS256", OTHER_SECRET, claims({ scope: "media:publish" })),
        SessionErrorCode.UNAUTHORIZED,
      ],
      ["not-a-jwt", SessionErrorCode.MALFORMED_AUTH_TOKEN],
      [await token({ expiresInSec: -60 }), SessionErrorCode.EXPIRED_AUTH_TOKEN],
    ];
    for (const [jwt, code] of cases) {
      await using p = await probe(kind, { port: fx.port, cert: fx.cert, ...carry(kind, jwt) });
      assertEquals(p.setupReply, undefined);
      const closed = await p.closed;
      assertEquals(closed.code, code, closed.reason);
    }
    assertEquals(fx.relay.sessionCount, 0);
  });

  Deno.test(`MoQT over ${kind}: requests outside the token's limits get UNAUTHORIZED, in-scope ones go through`, async () => {
    await using fx = await authRelay();
    const jwt = await token({ voice: { sids: ["CA1"] } });
    await using p = await probe(kind, { port: fx.port, cert: fx.cert, ...carry(kind, jwt) });
    assertEquals(p.setupReply?.type, "server_setup");

    await p.send(publishNamespace(0, "CA2"));
    const pn = await p.reply("publish_namespace_error", 0);
    assertEquals(pn.type === "publish_namespace_error" && pn.errorCode, 0x1);
    await p.send(publish(2, "CA2"));
    const pub = await p.reply("publish_error", 2);
    assertEquals(pub.type === "publish_error" && pub.errorCode, 0x1);
    await p.send(subscribe(4, ["voice", "CA2"]));
    const sub = await p.reply("subscribe_error", 4);
    assertEquals(sub.type === "subscribe_error" && sub.errorCode, 0x1);
    await p.send(subscribeNamespace(6, ["voice"]));
    const subNs = await p.reply("subscribe_namespace_error", 6);
    assertEquals(subNs.type === "subscribe_namespace_error" && subNs.errorCode, 0x1);

    // The session is still up, and in-scope requests are accepted.
    assert(await p.stillOpen(), "the session survives refused requests");
    await p.send(publishNamespace(8, "CA1"));
    await p.reply("publish_namespace_ok", 8);
    await p.send(publish(10, "CA1"));
    await p.reply("publish_ok", 10);
    await p.send(subscribeNamespace(12, ["voice", "CA1"]));
    await p.reply("subscribe_namespace_ok", 12);
    await p.send(subscribe(14, ["voice", "CA9"]));
    const other = await p.reply("subscribe_error", 14);
    assertEquals(other.type === "subscribe_error" && other.errorCode, 0x1);
  });

  Deno.test(`MoQT over ${kind}: a token without media:publish cannot publish anywhere`, async () => {
    await using fx = await authRelay();
    const jwt = await token({ scopes: ["media:subscribe", "calls:write"] });
    await using p = await probe(kind, { port: fx.port, cert: fx.cert, ...carry(kind, jwt) });
    await p.send(publishNamespace(0, "CA1"));
    const pn = await p.reply("publish_namespace_error", 0);
    assertEquals(pn.type === "publish_namespace_error" && pn.errorCode, 0x1);
    await p.send(publish(2, "CA1"));
    const pub = await p.reply("publish_error", 2);
    assertEquals(pub.type === "publish_error" && pub.errorCode, 0x1);
    // Subscribing is in scope: it is not refused as unauthorized (nobody publishes it).
    await p.send(subscribe(4, ["voice", "CA1"]));
    const sub = await p.reply("subscribe_error", 4);
    assertNotEquals(sub.type === "subscribe_error" && sub.errorCode, 0x1);
    assert(await p.stillOpen());
  });
}

Deno.test("MoQT over webtransport: the setup parameter works there too", async () => {
  await using fx = await authRelay();
  await using p = await probe("webtransport", {
    port: fx.port,
    cert: fx.cert,
    setupToken: await token(),
  });
  assertEquals(p.setupReply?.type, "server_setup");
});

Deno.test("MoQT: an unusable AUTHORIZATION_TOKEN structure gets MALFORMED / UNKNOWN_ALIAS", async () => {
  await using fx = await authRelay();
  const cases: [Uint8Array, number][] = [
    [Uint8Array.of(0x09), SessionErrorCode.MALFORMED_AUTH_TOKEN],
    [
      encodeAuthToken({ aliasType: "use_alias", alias: 3 }),
      SessionErrorCode.UNKNOWN_AUTH_TOKEN_ALIAS,
    ],
    [encodeAuthToken({ aliasType: "delete", alias: 3 }), SessionErrorCode.MALFORMED_AUTH_TOKEN],
    [
      encodeAuthToken({ aliasType: "use_value", tokenType: 0, value: Uint8Array.of(0xff, 0xfe) }),
      SessionErrorCode.MALFORMED_AUTH_TOKEN,
    ],
  ];
  for (const [bytes, code] of cases) {
    await using p = await probe("quic", { port: fx.port, cert: fx.cert, setupTokenBytes: bytes });
    assertEquals((await p.closed).code, code);
  }
});

Deno.test("MoqClient: a token in CLIENT_SETUP authorizes the connection; media flows only in scope", async () => {
  await using fx = await authRelay();
  const connect = async (jwt?: string) =>
    await MoqClient.connect({
      hostname: "127.0.0.1",
      port: fx.port,
      caCerts: [fx.cert.certPem],
      log: testLogger().log,
      token: jwt,
    });
  const refused = await assertRejects(() => connect(), MoqError);
  assertEquals(sessionErrorCode(refused), SessionErrorCode.UNAUTHORIZED);

  await using publisher = await connect(
    await token({ scopes: ["media:publish"], voice: { sids: ["CA1"] } }),
  );
  await using subscriber = await connect(
    await token({ scopes: ["media:subscribe"], voice: { sids: ["CA1"] } }),
  );
  await assertRejects(() =>
    publisher.publish({ namespace: ["voice", "CA2"], name: "uplink", capability: "voice/opus" })
  );
  const outside = await subscriber.subscribe(["voice", "CA2"], "uplink").catch((e) => e);
  assertEquals(outside?.reason, "unauthorized");
  const wrongWay = await publisher.subscribe(["voice", "CA1"], "uplink").catch((e) => e);
  assertEquals(wrongWay?.reason, "unauthorized", "a publish-only token cannot subscribe");

  const track = await publisher.publish({
    namespace: ["voice", "CA1"],
    name: "uplink",
    capability: "voice/opus",
  });
  const reader = await subscriber.subscribe(["voice", "CA1"], "uplink");
  const group = track.appendGroup();
  for (let i = 0; i < 3; i++) group.write({ id: i, payload: Uint8Array.of(i) });
  const got = await reader.nextGroup();
  const seen: number[] = [];
  for (let o; seen.length < 3 && (o = await got?.readObject());) seen.push(o.payload[0]);
  assertEquals(seen, [0, 1, 2]);
  assertEquals([publisher.session.state, subscriber.session.state], ["established", "established"]);
});

Deno.test("MoqClient: after the token expires, new requests are refused but the session stays up", async () => {
  await using fx = await authRelay();
  const short = await token({ expiresInSec: 2 });
  const client = await MoqClient.connect({
    hostname: "127.0.0.1",
    port: fx.port,
    caCerts: [fx.cert.certPem],
    log: testLogger().log,
    token: short,
  });
  try {
    // The signal is the clock passing the token's `exp` (seconds since the epoch).
    const exp = JSON.parse(atob(short.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp;
    await waitFor("the token to expire", () => Date.now() > exp * 1000);
    const error = await client.subscribe(["voice", "CA1"], "uplink").catch((e) => e);
    assertEquals(error?.reason, "unauthorized");
    assertEquals(client.session.state, "established");
  } finally {
    client.close();
  }
});
