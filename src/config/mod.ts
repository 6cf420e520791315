/**
 * Config-file helpers every section's zod schema shares: one message per failed parse
 * ({@linkcode describeError}), and issues re-raised from a nested schema
 * ({@linkcode forwardIssues}). Sections live in their own modules (`src/sip/config.ts`,
 * `src/agents/config.ts`, …); `src/server/config_schema.ts` composes them.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { z } from "zod";
 * import { describeError } from "./mod.ts";
 * const schema = z.strictObject({ port: z.number({ error: "expected a port" }) });
 * const result = schema.safeParse({ port: "x" });
 * assertEquals(describeError(schema, { port: "x" }, result.error!, ["sip"]), "Invalid sip.port: expected a port");
 * ```
 *
 * @module
 */
export { describeError, describeIssue, firstIssue, formatPath, forwardIssues } from "./issue.ts";
export type { Issue } from "./issue.ts";
