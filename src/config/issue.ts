/**
 * One message from a zod error, for every section of the config file.
 *
 * A section is a plain zod schema in its own module (e.g. `sipConfigSchema`); the server
 * composes them into one schema for the whole file. When a value fails, the first issue
 * (an unknown key first: it usually explains the rest) becomes one line that names the
 * exact place, e.g. `Invalid sip.trunks[0].address: expected host[:port], got "x y"`:
 *
 * - a message containing `{path}` is a template, `{path}` being the dotted path
 *   (`"relay"` quoted when it is a top-level key), e.g. `{path} must be an object`;
 * - any other message is given as `Invalid <path>: <message>`;
 * - an unknown key is given as `unknown key "<path>.<key>" (known: a, b, c)`, the known keys
 *   read from the schema at that place;
 * - a union that failed says why its closest branch failed (the one whose issues reach
 *   deepest), or its own message when no branch is closer than the others.
 *
 * @module
 */
import type { z } from "zod";

/** A zod issue, as `safeParse(...).error.issues` holds them. */
export type Issue = z.core.$ZodIssue;

/**
 * The dotted path of an issue: `sip.trunks[0].name`; a top-level key alone is quoted
 * (`"plugins"`) when `quoteTopLevel` is set.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { formatPath } from "./issue.ts";
 * assertEquals(formatPath(["sip", "trunks", 0, "name"]), "sip.trunks[0].name");
 * ```
 */
export function formatPath(path: readonly PropertyKey[], quoteTopLevel = false): string {
  if (quoteTopLevel && path.length === 1) return `"${String(path[0])}"`;
  let text = "";
  for (const segment of path) {
    text += typeof segment === "number"
      ? `[${segment}]`
      : `${text === "" ? "" : "."}${String(segment)}`;
  }
  return text;
}

/**
 * The one line that describes a failed parse of `input` by `schema`: its first issue
 * (unknown keys first), with `prefix` put before every path (e.g. `["sip"]` when a section
 * is parsed on its own).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { z } from "zod";
 * import { describeError } from "./issue.ts";
 *
 * const schema = z.strictObject({ port: z.number().int() });
 * const input = { port: 1, prot: 2 };
 * const result = schema.safeParse(input);
 * assertEquals(result.success, false);
 * assertEquals(describeError(schema, input, result.error!, ["listen"]), 'unknown key "listen.prot" (known: port)');
 * ```
 */
export function describeError(
  schema: z.ZodType,
  input: unknown,
  error: z.ZodError,
  prefix: readonly PropertyKey[] = [],
): string {
  return describeIssue(schema, input, firstIssue(error.issues), prefix);
}

/**
 * The issue to report: the shallowest unknown key if there is one, else the first issue.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { firstIssue } from "./issue.ts";
 * const issue = firstIssue([
 *   { code: "custom", path: ["a", "b"], message: "bad", input: 1 },
 *   { code: "unrecognized_keys", keys: ["x"], path: [], message: "", input: {} },
 * ]);
 * assertEquals(issue.code, "unrecognized_keys");
 * ```
 */
export function firstIssue(issues: readonly Issue[]): Issue {
  let best: Issue | undefined;
  for (const issue of issues) {
    if (!isUnknownKeys(issue)) continue;
    if (best === undefined || issue.path.length < best.path.length) best = issue;
  }
  return best ?? issues[0];
}

/**
 * One issue as a line (see the module doc), `prefix` before its path.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { z } from "zod";
 * import { describeIssue } from "./issue.ts";
 * const schema = z.strictObject({ n: z.number({ error: "{path} must be a number" }) });
 * const result = schema.safeParse({ n: "1" });
 * assertEquals(describeIssue(schema, { n: "1" }, result.error!.issues[0], ["relay"]), "relay.n must be a number");
 * ```
 */
export function describeIssue(
  schema: z.ZodType,
  input: unknown,
  issue: Issue,
  prefix: readonly PropertyKey[] = [],
): string {
  const path = [...prefix, ...issue.path];
  if (isUnknownKeys(issue)) {
    const params = issue.code === "custom" ? issue.params : undefined;
    const keys = issue.code === "unrecognized_keys"
      ? issue.keys
      : (params as { unknownKeys: string[] }).unknownKeys;
    const known = issue.code === "unrecognized_keys"
      ? knownKeysAt(schema, issue.path, input)
      : (params as { knownKeys?: string[] }).knownKeys;
    const names = keys.map((key) => `"${formatPath([...path, key])}"`).join(", ");
    return `unknown key${keys.length > 1 ? "s" : ""} ${names}${
      known ? ` (known: ${known.join(", ")})` : ""
    }`;
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    const branch = closestBranch(issue.errors as Issue[][]);
    if (branch !== undefined) {
      const inner = firstIssue(branch);
      const at = valueAt(input, issue.path);
      const index = (issue.errors as Issue[][]).indexOf(branch);
      const option = unionOptions(schemaAt(schema, issue.path, input, false))?.[index];
      return describeIssue(option ?? schema, at, inner, path);
    }
  }
  if (issue.message.includes("{path}")) {
    return issue.message.replaceAll("{path}", formatPath(path, true));
  }
  return path.length === 0 ? issue.message : `Invalid ${formatPath(path)}: ${issue.message}`;
}

/**
 * Re-raises on `ctx` the issues of `schema` parsing `value` (a nested schema a
 * `superRefine` applies, e.g. a built-in plugin's options), under `path`, keeping unknown
 * keys' known-key lists.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { z } from "zod";
 * import { forwardIssues } from "./issue.ts";
 * const inner = z.strictObject({ a: z.number() });
 * const outer = z.object({ options: z.unknown() }).superRefine((entry, ctx) =>
 *   forwardIssues(inner, entry.options, ctx, ["options"])
 * );
 * assertEquals(outer.safeParse({ options: { b: 1 } }).success, false);
 * ```
 */
export function forwardIssues(
  schema: z.ZodType,
  value: unknown,
  ctx: z.core.$RefinementCtx,
  path: readonly PropertyKey[],
): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      ctx.addIssue({
        code: "custom",
        path: [...path, ...issue.path] as PropertyKey[] as (string | number)[],
        message: issue.message,
        params: {
          unknownKeys: issue.keys,
          knownKeys: knownKeysAt(schema, issue.path, value),
        },
      });
    } else {
      ctx.addIssue({
        code: "custom",
        path: [...path, ...issue.path] as PropertyKey[] as (string | number)[],
        message: issue.code === "invalid_union"
          ? describeIssue(schema, value, issue).replace(/^Invalid [^:]*: /, "")
          : issue.message,
      });
    }
  }
}

// --- internals -------------------------------------------------------------------------------

function isUnknownKeys(issue: Issue): boolean {
  return issue.code === "unrecognized_keys" ||
    (issue.code === "custom" && Array.isArray(issue.params?.unknownKeys));
}

/** The branch whose issues all reach deeper than every other branch's, if one does. */
function closestBranch(branches: readonly Issue[][]): Issue[] | undefined {
  const depth = (issues: Issue[]) =>
    Math.min(...issues.map((i) => (isUnknownKeys(i) ? 0 : i.path.length)));
  let best: Issue[] | undefined;
  let bestDepth = -1;
  let tie = false;
  for (const branch of branches) {
    const d = depth(branch);
    if (d > bestDepth) [best, bestDepth, tie] = [branch, d, false];
    else if (d === bestDepth) tie = true;
  }
  return tie || bestDepth === 0 ? undefined : best;
}

type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  items?: z.ZodType[];
  options?: z.ZodType[];
  getter?: () => z.ZodType;
  discriminator?: string;
};

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Looks through wrappers (optional, default, pipe, lazy, …) to the schema that parses. */
function unwrap(schema: z.ZodType): z.ZodType {
  for (let i = 0; i < 32; i++) {
    const def = defOf(schema);
    const next = def.type === "pipe"
      ? def.in
      : def.type === "lazy"
      ? def.getter?.()
      : def.innerType;
    if (next === undefined) return schema;
    schema = next;
  }
  return schema;
}

function unionOptions(schema: z.ZodType | undefined): z.ZodType[] | undefined {
  if (schema === undefined) return undefined;
  const def = defOf(unwrap(schema));
  return def.type === "union" ? def.options : undefined;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const segment of path) {
    value = typeof value === "object" && value !== null
      ? (value as Record<PropertyKey, unknown>)[segment]
      : undefined;
  }
  return value;
}

/** The schema that parses the value at `path`, following the input through unions. */
function schemaAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  input: unknown,
  throughLastUnion = true,
): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  let value = input;
  for (const segment of [...path, undefined]) {
    if (current === undefined) return undefined;
    current = unwrap(current);
    if (segment === undefined && !throughLastUnion) return current;
    let def = defOf(current);
    if (def.type === "union" && def.options) {
      const options: z.ZodType[] = def.options;
      const chosen: z.ZodType | undefined = options.find((o) =>
        matchesDiscriminator(o, def, value)
      ) ??
        options.find((o) => defOf(unwrap(o)).type === "object");
      if (chosen === undefined) return undefined;
      current = unwrap(chosen);
      def = defOf(current);
    }
    if (segment === undefined) return current;
    value = valueAt(value, [segment]);
    current = def.type === "object"
      ? def.shape?.[String(segment)]
      : def.type === "array"
      ? def.element
      : def.type === "record"
      ? def.valueType
      : def.type === "tuple"
      ? def.items?.[Number(segment)]
      : undefined;
  }
  return current;
}

function matchesDiscriminator(option: z.ZodType, union: Def, value: unknown): boolean {
  if (union.discriminator === undefined || typeof value !== "object" || value === null) {
    return false;
  }
  const field = defOf(unwrap(option)).shape?.[union.discriminator];
  const values = field === undefined
    ? undefined
    : (defOf(unwrap(field)) as { values?: unknown[] }).values;
  return values?.includes((value as Record<string, unknown>)[union.discriminator]) ?? false;
}

function knownKeysAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | undefined {
  const at = schemaAt(schema, path, input);
  const shape = at === undefined ? undefined : defOf(at).shape;
  return shape === undefined ? undefined : Object.keys(shape).filter((k) => !k.startsWith("$"));
}
