/**
 * The pieces every route module of the HTTP API builds with (the Calls API and the agent
 * routes alike): the problem schema and response helpers for OpenAPI route definitions,
 * the validation hook that turns zod failures into problems, the JSON content-type guard
 * and the body limit.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ProblemError } from "./problem.ts";

/** RFC 9457 problem details, as documented in the OpenAPI document. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

/**
 * An OpenAPI JSON body (request or response) of `schema`.
 *
 * @example
 * ```ts
 * import { z } from "@hono/zod-openapi";
 * import { assertEquals } from "@std/assert";
 * import { json } from "./openapi.ts";
 * assertEquals(Object.keys(json(z.string()).content), ["application/json"]);
 * ```
 */
export const json = <T>(schema: T): { content: { "application/json": { schema: T } } } => ({
  content: { "application/json": { schema } },
});

/**
 * An OpenAPI problem response saying `description`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { problem } from "./openapi.ts";
 * assertEquals(problem("No such call").description, "No such call");
 * ```
 */
export const problem = (description: string): {
  description: string;
  content: { "application/problem+json": { schema: typeof ProblemSchema } };
} => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/**
 * The `defaultHook` of an `OpenAPIHono` app: a failed validation is a problem — 404 for a
 * path parameter (no such resource), 400 for a query, 422 for a body — listing each bad
 * input's path and message.
 *
 * @throws {ProblemError} when `result` failed.
 *
 * @example
 * ```ts ignore
 * const app = new OpenAPIHono({ defaultHook: validationHook });
 * ```
 */
export function validationHook(
  result: { success: boolean; error?: z.ZodError; target: string },
): void {
  if (result.success || !result.error) return;
  const errors = result.error.issues.map((issue) => ({
    path: issue.path.join(".") || "(root)",
    message: issue.code === "unrecognized_keys"
      ? `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`
      : issue.message,
  }));
  const detail = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
  if (result.target === "param") throw new ProblemError(404, "not-found", detail);
  if (result.target === "query") {
    throw new ProblemError(400, "validation-failed", detail, { errors });
  }
  throw new ProblemError(422, "validation-failed", detail, { errors });
}

/**
 * A request with a body must say it is JSON (`application/json` or `…+json`): 415 otherwise.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/things", requireJson, handler);
 * ```
 */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const length = c.req.header("content-length");
  const hasBody = c.req.raw.body !== null && length !== "0";
  const type = c.req.header("content-type")?.split(";")[0].trim().toLowerCase();
  if (hasBody && type !== undefined && !/^application\/([\w.-]+\+)?json$/.test(type)) {
    throw new ProblemError(415, "unsupported-media-type", `Got "${type}"`);
  }
  if (hasBody && type === undefined && length !== undefined) {
    throw new ProblemError(415, "unsupported-media-type", "No Content-Type");
  }
  await next();
};

/**
 * Bodies over `maxBytes` are a 413 problem.
 *
 * @example
 * ```ts ignore
 * app.post("/v1/things", jsonBodyLimit(64 * 1024), handler);
 * ```
 */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ProblemError(413, "payload-too-large", `Bodies are limited to ${maxBytes} bytes`);
    },
  });
}
