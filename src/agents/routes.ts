/**
 * The agent routes of the HTTP API, mounted next to the Calls API (and merged into its
 * OpenAPI document):
 *
 * ```text
 * POST   /v1/calls/{sid}/agent   {agent, parameters?}  binds the agent    (agents:write)
 * DELETE /v1/calls/{sid}/agent                          unbinds it         (agents:write)
 * ```
 *
 * 404 problem for an unknown call or agent, 409 for a call that is not in progress or
 * already has an agent (or has none, for DELETE); `Idempotency-Key` honoured on both.
 *
 * @module
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import { requireScope, requireSid } from "../auth/mod.ts";
import {
  idempotency,
  type IdempotencyRecords,
  type IdempotencyVariables,
  respond,
} from "../http/idempotency.ts";
import { json, jsonBodyLimit, problem, requireJson, validationHook } from "../http/openapi.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import { AgentError } from "./error.ts";
import type { AgentRuntime } from "./runtime.ts";

/** The scope every agent route needs. */
export const AGENT_ROUTE_SCOPE = "agents:write";

/** `"<METHOD> <openapi path>"` → scope, for the auth matrix. */
export const AGENT_ROUTE_SCOPES: Readonly<Record<string, "agents:write">> = Object.freeze({
  "POST /v1/calls/{sid}/agent": AGENT_ROUTE_SCOPE,
  "DELETE /v1/calls/{sid}/agent": AGENT_ROUTE_SCOPE,
});

/** `POST /v1/calls/{sid}/agent` body. */
export const AttachAgentBody = z.strictObject({
  agent: z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
  parameters: z.record(
    z.string().min(1).max(128),
    z.union([z.string().max(4096), z.number(), z.boolean()]),
  ).optional(),
}).openapi("AttachAgent");

/**
 * What the routes take from the Calls API they are mounted beside (its `callsRouteKit`
 * fits): agents and calls stand on the same floor, so the calls' schemas and error mapping
 * are handed in by the composition root rather than imported.
 */
export interface CallsRouteKit {
  /** The Calls API's wire schemas: a call (what the routes answer) and the sid path parameter. */
  readonly schemas: {
    readonly call: z.ZodType;
    readonly sidParam: z.ZodObject<{ sid: z.ZodString }>;
  };
  /** Maps an error the agents' own kinds do not cover (the calls' domain errors) to a problem. */
  errorResponse(error: unknown, c: Context): Response;
}

/** Options of {@linkcode createAgentRoutes}. */
export interface AgentRoutesOptions extends CallsRouteKit {
  readonly agents: AgentRuntime;
  /** Where `Idempotency-Key` records are read (the calls store writes them with each bind). */
  readonly idempotency: IdempotencyRecords;
  /** Check bearer scopes (needs the auth middleware in front) [true]. */
  readonly requireScopes?: boolean;
}

type Env = { Variables: IdempotencyVariables };

/**
 * Builds the routes as an OpenAPIHono app; mount it on the Calls API app with
 * `callsApp.route("/", routes)` so the OpenAPI document lists them.
 *
 * @example
 * ```ts ignore
 * import { createAgentRoutes } from "./routes.ts";
 * callsApp.route("/", createAgentRoutes({ agents, idempotency: store, ...callsRouteKit }));
 * ```
 */
export function createAgentRoutes(options: AgentRoutesOptions): OpenAPIHono<Env> {
  const { agents, idempotency: records, schemas, errorResponse, requireScopes = true } = options;
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook });
  const guard = (mutatingBody: boolean): MiddlewareHandler<Env>[] => {
    const chain: MiddlewareHandler<Env>[] = [];
    if (requireScopes) {
      chain.push(every(requireScope(AGENT_ROUTE_SCOPE), requireSid()) as MiddlewareHandler<Env>);
    }
    if (mutatingBody) {
      chain.push(jsonBodyLimit(64 * 1024) as MiddlewareHandler<Env>);
      chain.push(requireJson as MiddlewareHandler<Env>);
    }
    chain.push(idempotency(records) as unknown as MiddlewareHandler<Env>);
    return chain;
  };
  const described = (text: string) => `${text}\n\nRequires scope \`${AGENT_ROUTE_SCOPE}\`.`;

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/calls/{sid}/agent",
      summary: "Bind a configured AI voice agent to an in-progress call",
      description: described(
        "The agent hears the caller's uplink and speaks on the downlink from now on.",
      ),
      middleware: guard(true),
      security: requireScopes ? [{ bearer: [] }] : undefined,
      request: { params: schemas.sidParam, body: { ...json(AttachAgentBody), required: true } },
      responses: {
        200: { ...json(schemas.call), description: "The call, with `agent` set" },
        404: problem("No such call, or no such agent"),
        409: problem("The call is not in progress, or already has an agent"),
        422: problem("Validation failed or idempotency key reused"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      const body = c.req.valid("json") as z.infer<typeof AttachAgentBody>;
      return await respond(
        records,
        c.var.idempotency,
        200,
        (claim) => agents.attach(sid, body.agent, body.parameters ?? {}, { claim }),
      ) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/calls/{sid}/agent",
      summary: "Unbind the call's agent; the call goes on",
      description: described("The agent's downlink ends; the caller stays on the call."),
      middleware: guard(false),
      security: requireScopes ? [{ bearer: [] }] : undefined,
      request: { params: schemas.sidParam },
      responses: {
        200: { ...json(schemas.call), description: "The call, without `agent`" },
        404: problem("No such call"),
        409: problem("The call has no agent"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      return await respond(
        records,
        c.var.idempotency,
        200,
        (claim) => agents.detach(sid, claim),
      ) as never;
    },
  );

  app.onError((error, c) => agentErrorResponse(error, c, errorResponse));
  return app;
}

const STATUS: Record<AgentError["kind"], 404 | 409> = {
  unknown_agent: 404,
  already_bound: 409,
  not_bound: 409,
  call_not_live: 409,
  no_media: 409,
  unavailable: 409,
};

/** Maps an agent error to its problem; anything else as the Calls API does. */
function agentErrorResponse(
  error: unknown,
  c: Context,
  otherwise: CallsRouteKit["errorResponse"],
): Response {
  if (error instanceof AgentError) {
    const status = STATUS[error.kind];
    return problemResponse(
      new ProblemError(status, status === 404 ? "not-found" : "conflict", error.message),
      c.req.path,
    );
  }
  return otherwise(error, c);
}
