/**
 * The authorization matrix: every HTTP route × scope × `voice` restriction, over real HTTP
 * against a real server (VoiceServer in process, HS256 tokens). The table below has one row
 * per route; a route in `/openapi.json` without a row fails the test, so a new route must say
 * here which scope it needs and which resource it names.
 *
 * Each row names what the route touches:
 * - `public`: no token needed;
 * - `none`: only the scope (e.g. relay stats);
 * - `list`: 200 for every restriction, but only the calls the token may see are listed;
 * - `originate`: a new call (unrestricted, `prefix: ["voice"]` or `originate: true`);
 * - `sid`: one call (`voice.sids`, a `["voice", sid]` prefix, or a prefix covering all calls);
 * - `identity`: one client (unrestricted, or `voice.clients` naming it).
 *
 * Cells: no token → 401; a token with every scope but the row's → 403 `insufficient_scope`;
 * a token with only the row's scope → the row's success status; then every restriction (with
 * every scope) → the success status or 403 `forbidden_resource`. A refused mutation is checked
 * to have changed nothing.
 *
 * To add a route: add a row (method, OpenAPI path, scope, resource, how to build a request and
 * what a permitted request returns).
 */
import { assert, assertEquals } from "@std/assert";
import { type ResourceLimits, type Scope, SCOPES, signToken } from "../../src/auth/mod.ts";
import { loadConfig } from "../../src/server/config.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { writeSidecar } from "../../src/plugins/recorder/metadata.ts";
import { testLogger } from "../_lib/relay_fixture.ts";

const SECRET = "auth-matrix-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

type Resource = "public" | "none" | "list" | "originate" | "sid" | "identity";

/** What a cell's request acts on. */
interface Target {
  /** The call the request names (sid rows), or the call that must be visible (list rows). */
  readonly sid: string;
  /** Another existing call, never named by the request. */
  readonly other: string;
}

interface Row {
  readonly method: "GET" | "POST" | "DELETE";
  /** The OpenAPI path (`{sid}`, `{identity}` placeholders). */
  readonly path: string;
  readonly scope?: Scope;
  readonly resource: Resource;
  /** The status of a permitted request. */
  readonly ok: number;
  /** A call this row's request needs (a fresh one per cell when the request changes it). */
  readonly target?: "shared" | "fresh-ringing" | "fresh-answered";
  readonly body?: unknown;
  /** Extra checks on a permitted response's JSON body. */
  readonly check?: (body: unknown, visible: Visible, target: Target) => void;
}

/** The calls a restriction may see: every call, or exactly these. */
type Visible = "all" | readonly string[];

interface Restriction {
  readonly name: string;
  readonly voice?: (t: Target) => ResourceLimits;
  readonly visible: (t: Target) => Visible;
  readonly originate: boolean;
  /** May act for client "alice" (the identity rows name). */
  readonly alice: boolean;
}

const RESTRICTIONS: readonly Restriction[] = [
  { name: "unrestricted", visible: () => "all", originate: true, alice: true },
  {
    name: "sids: [target]",
    voice: (t) => ({ sids: [t.sid] }),
    visible: (t) => [t.sid],
    originate: false,
    alice: false,
  },
  {
    name: "sids: [another call]",
    voice: (t) => ({ sids: [t.other] }),
    visible: (t) => [t.other],
    originate: false,
    alice: false,
  },
  {
    name: 'prefix: ["voice", target]',
    voice: (t) => ({ prefix: ["voice", t.sid] }),
    visible: (t) => [t.sid],
    originate: false,
    alice: false,
  },
  {
    name: 'prefix: ["voice"]',
    voice: () => ({ prefix: ["voice"] }),
    visible: () => "all",
    originate: true,
    alice: false,
  },
  {
    name: 'prefix: ["agents", "a1"]',
    voice: () => ({ prefix: ["agents", "a1"] }),
    visible: () => [],
    originate: false,
    alice: false,
  },
  {
    name: 'clients: ["alice"]',
    voice: () => ({ clients: ["alice"] }),
    visible: () => [],
    originate: false,
    alice: true,
  },
  {
    name: 'clients: ["bob"]',
    voice: () => ({ clients: ["bob"] }),
    visible: () => [],
    originate: false,
    alice: false,
  },
  {
    name: "originate: true",
    voice: () => ({ originate: true }),
    visible: () => [],
    originate: true,
    alice: false,
  },
  {
    name: "sids: [target], originate: true",
    voice: (t) => ({ sids: [t.sid], originate: true }),
    visible: (t) => [t.sid],
    originate: true,
    alice: false,
  },
  { name: "{} (nothing)", voice: () => ({}), visible: () => [], originate: false, alice: false },
];

const sidsOf = (body: unknown, key: "calls" | "recordings") =>
  (body as Record<string, { sid: string }[]>)[key].map((x) => x.sid);

/** A list shows exactly the visible calls (among the shared ones, for "all"). */
function checkList(key: "calls" | "recordings") {
  return (body: unknown, visible: Visible, t: Target) => {
    const listed = sidsOf(body, key);
    if (visible === "all") {
      assert(listed.includes(t.sid) && listed.includes(t.other), `${key}: ${listed}`);
    } else {
      assertEquals(listed.toSorted(), visible.filter((s) => s === t.sid || s === t.other).sort());
    }
  };
}

const ROWS: readonly Row[] = [
  { method: "GET", path: "/healthz", resource: "public", ok: 200 },
  { method: "GET", path: "/readyz", resource: "public", ok: 200 },
  { method: "GET", path: "/metrics", resource: "public", ok: 200 },
  { method: "GET", path: "/openapi.json", resource: "public", ok: 200 },
  { method: "GET", path: "/v1/relay/certificate", resource: "public", ok: 200 },
  // The browser SDK and the two pages hold no secret: the token is the user's (src/server/pages.ts).
  { method: "GET", path: "/sdk/browser.js", resource: "public", ok: 200 },
  { method: "GET", path: "/sdk/softphone.js", resource: "public", ok: 200 },
  { method: "GET", path: "/sdk/calls.js", resource: "public", ok: 200 },
  { method: "GET", path: "/softphone", resource: "public", ok: 200 },
  { method: "GET", path: "/calls", resource: "public", ok: 200 },
  { method: "GET", path: "/v1/relay/stats", scope: "relay:read", resource: "none", ok: 200 },
  { method: "GET", path: "/v1/relay/shards", scope: "relay:read", resource: "none", ok: 200 },
  {
    method: "GET",
    path: "/v1/relay/placement/{sid}",
    scope: "media:subscribe",
    resource: "sid",
    ok: 200,
    target: "shared",
    check: (body, _, t) => assertEquals((body as { sid: string }).sid, t.sid),
  },
  {
    method: "GET",
    path: "/v1/calls",
    scope: "calls:read",
    resource: "list",
    ok: 200,
    target: "shared",
    check: checkList("calls"),
  },
  {
    method: "GET",
    path: "/v1/recordings",
    scope: "calls:read",
    resource: "list",
    ok: 200,
    target: "shared",
    check: (body, visible, t) => {
      checkList("recordings")(body, visible, t);
      for (const r of (body as { recordings: { path: string }[] }).recordings) {
        assert(!r.path.includes("/"), `no server path in a recording: ${r.path}`);
      }
    },
  },
  {
    method: "GET",
    path: "/v1/recordings/{sid}",
    scope: "calls:read",
    resource: "sid",
    ok: 200,
    target: "shared",
    check: (body, _, t) => assertEquals((body as { path: string }).path, `${t.sid}.wav`),
  },
  {
    method: "GET",
    path: "/v1/recordings/{sid}/audio",
    scope: "calls:read",
    resource: "sid",
    ok: 200,
    target: "shared",
  },
  {
    method: "GET",
    path: "/v1/calls/{sid}",
    scope: "calls:read",
    resource: "sid",
    ok: 200,
    target: "shared",
  },
  {
    method: "GET",
    path: "/v1/calls/{sid}/events",
    scope: "calls:read",
    resource: "sid",
    ok: 200,
    target: "shared",
  },
  {
    method: "GET",
    path: "/v1/calls/{sid}/transcript",
    scope: "calls:read",
    resource: "sid",
    ok: 200,
    target: "shared",
    check: (body, _, t) => assertEquals(body, { sid: t.sid, finals: [], truncated: false }),
  },
  {
    method: "GET",
    path: "/v1/clients/{identity}",
    scope: "calls:read",
    resource: "identity",
    ok: 200,
  },
  {
    method: "GET",
    path: "/v1/clients/{identity}/incoming",
    scope: "calls:read",
    resource: "identity",
    ok: 200,
  },
  {
    method: "POST",
    path: "/v1/clients/{identity}/register",
    scope: "calls:write",
    resource: "identity",
    ok: 200,
  },
  {
    method: "POST",
    path: "/v1/calls",
    scope: "calls:write",
    resource: "originate",
    ok: 201,
    body: { from: "+14155550100", to: "client:alice" },
  },
  {
    method: "POST",
    path: "/v1/calls/{sid}/hangup",
    scope: "calls:write",
    resource: "sid",
    ok: 200,
    target: "fresh-ringing",
  },
  {
    method: "POST",
    path: "/v1/calls/{sid}/answer",
    scope: "calls:write",
    resource: "sid",
    ok: 200,
    target: "fresh-ringing",
  },
  {
    method: "POST",
    path: "/v1/calls/{sid}/transfer",
    scope: "calls:write",
    resource: "sid",
    ok: 200,
    target: "fresh-answered",
    body: { to: "client:bob" },
  },
  {
    // Permitted, but this server has no agents configured: 404 past the auth checks.
    method: "POST",
    path: "/v1/calls/{sid}/agent",
    scope: "agents:write",
    resource: "sid",
    ok: 404,
    target: "fresh-answered",
    body: { agent: "nobody" },
  },
  {
    // Permitted, but the call has no agent to unbind: 409 past the auth checks.
    method: "DELETE",
    path: "/v1/calls/{sid}/agent",
    scope: "agents:write",
    resource: "sid",
    ok: 409,
    target: "fresh-answered",
  },
  {
    // Permitted, but a client call has no SIP leg to play digits to: 409 past the auth checks.
    method: "POST",
    path: "/v1/calls/{sid}/digits",
    scope: "calls:write",
    resource: "sid",
    ok: 409,
    target: "fresh-answered",
    body: { digits: "1" },
  },
];

function permitted(row: Row, r: Restriction, t: Target): boolean {
  switch (row.resource) {
    case "public":
    case "none":
    case "list":
      return true;
    case "originate":
      return r.originate;
    case "identity":
      return r.alice;
    case "sid": {
      const visible = r.visible(t);
      return visible === "all" || visible.includes(t.sid);
    }
  }
}

Deno.test("every route enforces its scope and the token's voice limits (auth matrix over real HTTP)", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-auth-matrix-" });
  await using _cleanup = {
    [Symbol.asyncDispose]: () => Deno.remove(dataDir, { recursive: true }),
  };
  const config = await loadConfig(
    ["--http-port", "0", "--moq-port", "0", "--data-dir", dataDir],
    { CLUTCHCALL_AUTH_HS256_SECRET: SECRET },
  );
  await using server = await VoiceServer.start(config, testLogger().log);
  const mint = (scopes: readonly Scope[], voice?: ResourceLimits) =>
    signToken({ hs256Secret: SECRET, scopes, voice });
  const admin = await mint(SCOPES);
  const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
    const headers = new Headers();
    if (token) headers.set("authorization", `Bearer ${token}`);
    if (body !== undefined) headers.set("content-type", "application/json");
    const response = await fetch(`${server.httpUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get("content-type") ?? "";
    const json = type.includes("json") ? await response.json() : undefined;
    if (json === undefined) await response.body?.cancel();
    return { status: response.status, type, json };
  };
  const adminCall = async (method: string, path: string, body?: unknown) => {
    const res = await call(admin, method, path, body);
    assert(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json as Record<string, unknown>;
  };
  const statusOf = async (sid: string) => (await adminCall("GET", `/v1/calls/${sid}`)).status;
  /** Waits for a call's status through its event stream (a signal, not a timer). */
  const reached = async (sid: string, status: string) => {
    const response = await fetch(`${server.httpUrl}/v1/calls/${sid}/events`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    try {
      while (!text.includes(`"status":"${status}"`)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`Call ${sid} ended its events before ${status}: ${text}`);
        text += value;
      }
    } finally {
      await reader.cancel();
    }
  };
  const newCall = async (state: "ringing" | "in_progress") => {
    const created = await adminCall("POST", "/v1/calls", {
      from: "+14155550100",
      to: "client:alice",
    });
    const sid = created.sid as string;
    await reached(sid, "ringing");
    if (state === "in_progress") await adminCall("POST", `/v1/calls/${sid}/answer`);
    return sid;
  };

  await adminCall("POST", "/v1/clients/alice/register");
  await adminCall("POST", "/v1/clients/bob/register");
  const shared: Target = { sid: await newCall("ringing"), other: await newCall("ringing") };
  for (const sid of [shared.sid, shared.other]) {
    await Deno.mkdir(`${dataDir}/recordings`, { recursive: true });
    await Deno.writeFile(`${dataDir}/recordings/${sid}.wav`, new Uint8Array(44));
    await writeSidecar(`${dataDir}/recordings/${sid}.json`, {
      sid,
      path: `${dataDir}/recordings/${sid}.wav`,
      sampleRate: 16000,
      channels: 2,
      duration: 0,
      bytes: 0,
      tracks: [],
      startedAt: new Date().toISOString(),
      state: "completed",
    });
  }

  await t.step("every route in /openapi.json has a row", async () => {
    const doc = (await call(undefined, "GET", "/openapi.json")).json as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`)
    );
    assert(documented.length > 5, `the document lists routes: ${documented}`);
    const rows = new Set(ROWS.map((r) => `${r.method} ${r.path}`));
    assertEquals(documented.filter((route) => !rows.has(route)), [], "routes without a row");
  });

  for (const row of ROWS) {
    await t.step(`${row.method} ${row.path}`, async () => {
      const failures: string[] = [];
      const targetFor = async (): Promise<Target> =>
        row.target === "fresh-ringing"
          ? { sid: await newCall("ringing"), other: shared.other }
          : row.target === "fresh-answered"
          ? { sid: await newCall("in_progress"), other: shared.other }
          : shared;
      const urlOf = (target: Target) =>
        row.path.replace("{sid}", target.sid).replace("{identity}", "alice");
      const expect = async (
        cell: string,
        token: string | undefined,
        target: Target,
        status: number,
        extra?: (json: unknown) => void,
      ) => {
        const before = row.target?.startsWith("fresh") ? await statusOf(target.sid) : undefined;
        const res = await call(token, row.method, urlOf(target), row.body);
        if (res.status !== status) {
          failures.push(`${cell}: got ${res.status}, want ${status} ${JSON.stringify(res.json)}`);
          return;
        }
        try {
          extra?.(res.json);
          if (status === 401 || status === 403) {
            assertEquals(res.type, "application/problem+json");
            if (before !== undefined) assertEquals(await statusOf(target.sid), before);
          }
        } catch (error) {
          failures.push(`${cell}: ${(error as Error).message}`);
        }
      };
      const code = (kind: string) => (json: unknown) =>
        assertEquals((json as { code: string }).code, kind);

      if (row.resource === "public") {
        await expect("no token", undefined, shared, row.ok);
        assertEquals(failures, []);
        return;
      }
      const scope = row.scope!;
      await expect("no token", undefined, await targetFor(), 401);
      await expect(
        "every scope but " + scope,
        await mint(SCOPES.filter((s) => s !== scope)),
        await targetFor(),
        403,
        code("insufficient_scope"),
      );
      {
        const target = await targetFor();
        await expect(
          `only ${scope}`,
          await mint([scope]),
          target,
          row.ok,
          row.check && ((json) => row.check!(json, "all", target)),
        );
      }
      for (const r of RESTRICTIONS) {
        const target = await targetFor();
        const token = await mint(SCOPES, r.voice?.(target));
        if (permitted(row, r, target)) {
          await expect(
            r.name,
            token,
            target,
            row.ok,
            row.check && ((json) => row.check!(json, r.visible(target), target)),
          );
        } else {
          await expect(r.name, token, target, 403, code("forbidden_resource"));
        }
      }
      assertEquals(failures, [], `${row.method} ${row.path}`);
    });
  }
});
