/**
 * HTTP fuzz driven by the server's own `/openapi.json`: every operation gets a valid request
 * sampled from its schemas (openapi-sampler), then a seeded series of hostile variants of it —
 * junk path parameters, wrong-typed and oversized query values, bodies that are not JSON, wrong
 * types for every property, missing required properties, deep nesting, prototype keys, wrong
 * content types, malformed Idempotency-Key and Authorization headers.
 *
 * Pass means: no response is a 5xx; every 4xx is `application/problem+json` whose `status`
 * matches and whose text carries no stack or server path; the server stays healthy and ready; a
 * sentinel call no request names is untouched; and the calls listed afterwards are exactly the
 * sentinel, the fuzz target and the calls whose originate got a 201 (nothing phantom, nothing
 * accepted lost).
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";
import { sample } from "openapi-sampler";
import { startServer } from "../calls/_server.ts";
import { PROBLEM_BASE } from "../../src/api/problem.ts";

/** A seeded PRNG (mulberry32) so a failure replays with the same requests. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = unknown;
interface Schema {
  readonly type?: string;
  readonly properties?: Record<string, Schema>;
  readonly required?: readonly string[];
  readonly $ref?: string;
  readonly enum?: readonly Json[];
}
interface Parameter {
  readonly name: string;
  readonly in: "path" | "query" | "header";
  readonly schema?: Schema;
}
interface Operation {
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content: Record<string, { schema: Schema }> };
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, Schema> };
}

/** One request to send. */
interface Probe {
  readonly what: string;
  readonly path: string;
  readonly query?: string;
  readonly body?: BodyInit;
  readonly contentType?: string | null;
  readonly headers?: Record<string, string>;
}

const JUNK_SEGMENTS = [
  "",
  "x".repeat(10_000),
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "%ZZ",
  "%E2%98%8E",
  "'%20OR%201%3D1--",
  `CA${"f".repeat(200)}`,
  "__proto__",
  "constructor",
  "-1",
  "1e309",
];

const WRONG_VALUES: readonly Json[] = [
  null,
  true,
  -1,
  1e309 === Infinity ? 1.7976931348623157e308 : 0,
  "",
  "x".repeat(100_000),
  [],
  [1, "a", null],
  {},
  { nested: { deeper: [{}] } },
  "\u0000\ud800",
  "2030-13-45T99:99:99Z",
];

const JUNK_QUERY_VALUES = [
  "",
  "-1",
  "0",
  "1e400",
  "NaN",
  "x".repeat(5000),
  "%00",
  "[]",
  "{}",
  "%ZZ",
];

function resolve(doc: Document, schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  return doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")];
}

/** The hostile variants of one operation; `pathFor` fills the path with real or junk values. */
function probesFor(
  doc: Document,
  template: string,
  operation: Operation,
  realParams: Record<string, string>,
  random: () => number,
): Probe[] {
  const params = operation.parameters ?? [];
  const pathParams = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const fill = (overrides: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_, name) => overrides[name] ?? realParams[name] ?? "CA0");
  const probes: Probe[] = [];
  const bodySchema = resolve(doc, operation.requestBody?.content["application/json"]?.schema);
  // The sample fills every property with its example; the base of the variants keeps only the
  // required ones, so a variant differs from a request the route accepts in one place (an
  // optional example such as a statusCallback host may not resolve here).
  const full = bodySchema
    ? sample(bodySchema as never, { skipReadOnly: true }, doc as never) as Record<string, Json>
    : undefined;
  const valid = full &&
    Object.fromEntries(Object.entries(full).filter(([k]) => bodySchema?.required?.includes(k)));
  const json = (value: Json) => JSON.stringify(value);
  const base = { path: fill(), ...(valid ? { body: json(valid) } : {}) };
  if (full) probes.push({ ...base, what: "every property's example", body: json(full) });

  for (const name of pathParams) {
    for (const junk of JUNK_SEGMENTS) {
      probes.push({
        ...base,
        what: `path ${name}=${junk.slice(0, 20)}`,
        path: fill({ [name]: junk }),
      });
    }
  }
  for (const param of params.filter((p) => p.in === "query")) {
    for (const junk of JUNK_QUERY_VALUES) {
      probes.push({
        ...base,
        what: `query ${param.name}=${junk.slice(0, 20)}`,
        query: `${param.name}=${junk}`,
      });
    }
    probes.push({
      ...base,
      what: `query ${param.name} repeated`,
      query: `${param.name}=a&${param.name}=b`,
    });
  }
  probes.push({ ...base, what: "unknown query", query: "zzz=1&%ZZ=%ZZ" });
  probes.push({ ...base, what: "junk Authorization", headers: { authorization: "Bearer a.b.c" } });
  probes.push({
    ...base,
    what: "Authorization not bearer",
    headers: { authorization: "Basic Zm9vOmJhcg==" },
  });
  probes.push({
    ...base,
    what: "junk Idempotency-Key",
    headers: { "idempotency-key": "k".repeat(4096) },
  });

  if (bodySchema) {
    const texts = ["{", '{"a":', "[1,2", "nul", "\u0000", "{}}", `{"x":"${"\\u".repeat(10)}"}`];
    for (const text of texts) {
      probes.push({ ...base, what: `body text ${text.slice(0, 12)}`, body: text });
    }
    for (const value of [null, [], "string", 42, true]) {
      probes.push({ ...base, what: `body ${json(value)}`, body: json(value) });
    }
    probes.push({ ...base, what: "deep nesting", body: "[".repeat(100_000) + "]".repeat(100_000) });
    probes.push({
      ...base,
      what: "2 MB body",
      body: json({ ...valid, pad: "x".repeat(2_000_000) }),
    });
    probes.push({
      ...base,
      what: "__proto__ key",
      body: `{"__proto__":{"admin":true},${json(valid).slice(1)}`,
    });
    probes.push({
      ...base,
      what: "constructor key",
      body: json({ ...valid, constructor: { prototype: {} } }),
    });
    probes.push({ ...base, what: "extra properties", body: json({ ...valid, zzz: 1, "": "" }) });
    probes.push({ ...base, what: "text/plain", contentType: "text/plain" });
    probes.push({ ...base, what: "no content type", contentType: null });
    probes.push({
      ...base,
      what: "form content type",
      contentType: "application/x-www-form-urlencoded",
    });
    probes.push({ ...base, what: "charset junk", contentType: "application/json; charset=ebcdic" });
    for (const name of Object.keys(bodySchema.properties ?? {})) {
      for (let i = 0; i < 4; i++) {
        const wrong = WRONG_VALUES[Math.floor(random() * WRONG_VALUES.length)];
        probes.push({
          ...base,
          what: `body ${name}=${json(wrong)?.slice(0, 20)}`,
          body: json({ ...valid, [name]: wrong }),
        });
      }
    }
    for (const name of bodySchema.required ?? []) {
      const { [name]: _, ...rest } = valid ?? {};
      probes.push({ ...base, what: `body without ${name}`, body: json(rest) });
    }
  }
  return probes;
}

/** True if `text` looks like it leaks internals: a stack frame or a source/server path. */
function leaks(text: string): boolean {
  return /\bat [\w$.<>]+ \(|file:\/\/|\/src\/|\.ts:\d+|node_modules|\/tmp\//.test(text);
}

Deno.test("fuzzing every OpenAPI operation yields no 5xx, only problem responses, and no call noticed", async () => {
  await using fx = await startServer();
  const doc = await (await fetch(`${fx.url}/openapi.json`)).json() as Document;

  const originate = async (to: string) => {
    const response = await fx.fetch("/v1/calls", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from: "+14155550100", to, ringTimeoutMs: 600_000 }),
    });
    assertEquals(response.status, 201);
    return (await response.json()).sid as string;
  };
  const sentinel = await originate("client:sentinel");
  const target = await originate("client:alice");
  const sentinelBefore = await (await fx.fetch(`/v1/calls/${sentinel}`)).json();

  const random = prng(0xC0FFEE);
  const created = new Set<string>();
  const failures: string[] = [];
  let sent = 0;
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const real = { sid: target, identity: "alice" };
      for (const probe of probesFor(doc, template, operation, real, random)) {
        const headers = new Headers(probe.headers);
        const contentType = probe.contentType === undefined
          ? "application/json"
          : probe.contentType;
        if (probe.body !== undefined && contentType !== null) {
          headers.set("content-type", contentType);
        }
        const url = `${probe.path}${probe.query ? `?${probe.query}` : ""}`;
        const hasBody = method !== "get" && method !== "delete" && probe.body !== undefined;
        const response = await fx.fetch(url, {
          method: method.toUpperCase(),
          headers,
          ...(hasBody ? { body: probe.body } : {}),
        });
        sent++;
        if (Deno.env.get("FUZZ_LOG")) {
          console.error(`${method} ${template} ${probe.what.slice(0, 30)} ${response.status}`);
        }
        const label = `${method.toUpperCase()} ${template} [${probe.what}] → ${response.status}`;
        const type = response.headers.get("content-type") ?? "";
        if (type.startsWith("text/event-stream")) {
          await response.body?.cancel();
          continue;
        }
        const text = await response.text();
        if (response.status >= 500) failures.push(`${label}: ${text.slice(0, 200)}`);
        else if (response.status >= 400) {
          if (type !== "application/problem+json") failures.push(`${label}: content-type ${type}`);
          else {
            const problem = JSON.parse(text);
            if (problem.status !== response.status) {
              failures.push(`${label}: problem.status ${problem.status}`);
            }
            if (!String(problem.type).startsWith(PROBLEM_BASE)) {
              failures.push(`${label}: type ${problem.type}`);
            }
          }
        }
        const api = response.status >= 400 || type.startsWith("application/json");
        if (api && leaks(text)) failures.push(`${label}: leaks internals: ${text.slice(0, 200)}`);
        if (method === "post" && template === "/v1/calls" && response.status === 201) {
          created.add(JSON.parse(text).sid);
        }
      }
    }
  }
  assert(sent > 400, `only ${sent} probes were sent`);
  assertEquals(failures, [], `${failures.length} of ${sent} probes misbehaved`);

  assertEquals((await fetch(`${fx.url}/healthz`)).status, 200);
  const ready = await fetch(`${fx.url}/readyz`);
  assertEquals(ready.status, 200, await ready.text());
  const sentinelAfter = await (await fx.fetch(`/v1/calls/${sentinel}`)).json();
  assertEquals(sentinelAfter, sentinelBefore, "the sentinel call noticed the fuzz");

  const listed = new Set<string>();
  for (let cursor: string | undefined = undefined;;) {
    const page = await (await fx.fetch(`/v1/calls?limit=100${cursor ? `&cursor=${cursor}` : ""}`))
      .json();
    for (const call of page.calls) listed.add(call.sid);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  assertEquals([...listed].sort(), [sentinel, target, ...created].sort(), "the calls listed");
});
