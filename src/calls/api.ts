/**
 * The Calls HTTP API on Hono + `@hono/zod-openapi`: routes, validation, problem details,
 * idempotency, server-sent events and `GET /openapi.json`, all from the schemas in
 * `schemas.ts`.
 *
 * ```text
 * POST /v1/calls                          originate → 201 Call (dialing)
 * GET  /v1/calls                          list (status, direction, createdAfter/Before, cursor)
 * GET  /v1/calls/{sid}                    one call
 * POST /v1/calls/{sid}/answer             ringing → in_progress
 * POST /v1/calls/{sid}/transfer           {to} | {agent}; the sid stays
 * POST /v1/calls/{sid}/hangup             ends the call and both tracks
 * GET  /v1/calls/{sid}/events             SSE: status, media, transfer
 * GET  /v1/calls/{sid}/transcript         the transcript's finals so far, in order
 * POST /v1/clients/{identity}/register    makes client:<identity> ringable
 * GET  /v1/clients/{identity}             its registration
 * GET  /v1/clients/{identity}/incoming    SSE: ring, cancel
 * GET  /openapi.json
 * ```
 *
 * @module
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { Call } from "./call.ts";
import type { CallEvent, IncomingEvent } from "./events.ts";
import {
  idempotency,
  type IdempotencyVariables,
  outcomeResponse,
  respond,
} from "../http/idempotency.ts";
import { ProblemError, problemResponse } from "../http/problem.ts";
import { json, jsonBodyLimit, problem, requireJson, validationHook } from "../http/openapi.ts";
import {
  CallPageSchema,
  CallSchema,
  ClientSchema,
  DigitsBody,
  IdentityParam,
  ListQuery,
  OriginateBody,
  SidParam,
  TranscriptSchema,
  TransferBody,
} from "./schemas.ts";
import { CALLS_ROUTE_SCOPES, type CallsScope } from "./scopes.ts";
import type { CallService } from "./service.ts";
import { CALL_STATUSES, isTerminal } from "./status.ts";
import {
  type CallbackRefusedError,
  CallError,
  type DestinationRefusedError,
  type GatewayFailedError,
  type IllegalCallTransitionError,
  StoreUnavailableError,
} from "./errors.ts";
import { InvalidCursorError } from "./store.ts";

/** Options for {@linkcode createCallsApi}. */
export interface CallsApiOptions {
  readonly calls: CallService;
  /**
   * Builds the auth middleware for a route (its method and OpenAPI path, e.g. `GET` and
   * `/v1/calls/{sid}`) needing `scope`; it may also read `c.var.requiredScope`. Unset: no
   * checks here.
   */
  readonly auth?: (scope: CallsScope, path: string, method: "GET" | "POST") => MiddlewareHandler;
  /**
   * The calls a request may see (`GET /v1/calls` lists only those), or `undefined` for all:
   * a token limited to some sids sees only its own. Unset: every call.
   */
  readonly visibleSids?: (c: Context) => readonly string[] | undefined;
  /** Largest request body accepted, in bytes [65536]. */
  readonly maxBodyBytes?: number;
  /** SSE keep-alive comment interval, in ms [15000]. */
  readonly keepAliveMs?: number;
}

/** Context variables the API sets. */
export type CallsApiVariables = IdempotencyVariables & { requiredScope: CallsScope };
type Env = { Variables: CallsApiVariables };

const sse = (description: string) => ({
  description,
  content: { "text/event-stream": { schema: { type: "string" as const } } },
});

/**
 * Builds the API as a Hono app to mount at `/`.
 *
 * @example
 * ```ts ignore
 * import { createCallsApi } from "./api.ts";
 * app.route("/", createCallsApi({ calls }));
 * ```
 */
export function createCallsApi(options: CallsApiOptions): OpenAPIHono<Env> {
  const { calls, auth, visibleSids, maxBodyBytes = 64 * 1024, keepAliveMs = 15_000 } = options;
  const app = new OpenAPIHono<Env>({ defaultHook: validationHook });
  const idem = idempotency(calls.store) as unknown as MiddlewareHandler<Env>;
  const limit = jsonBodyLimit(maxBodyBytes);

  /** Per-route middleware: scope tag, auth, then (for mutations) body checks and idempotency. */
  const guard = (method: "get" | "post", path: string, mutating: boolean) => {
    const scope = CALLS_ROUTE_SCOPES[`${method.toUpperCase()} ${path}`];
    if (!scope) throw new Error(`No scope for ${method} ${path}`);
    const tag: MiddlewareHandler<Env> = async (c, next) => {
      c.set("requiredScope", scope);
      await next();
    };
    const chain: MiddlewareHandler<Env>[] = [tag];
    if (auth) {
      chain.push(
        auth(scope, path, method.toUpperCase() as "GET" | "POST") as MiddlewareHandler<Env>,
      );
    }
    if (mutating) {
      chain.push(limit as MiddlewareHandler<Env>, requireJson as MiddlewareHandler<Env>, idem);
    }
    return chain;
  };

  const route = <
    R extends Parameters<typeof createRoute>[0] & { method: "get" | "post" },
  >(r: R, mutating = r.method === "post") =>
    createRoute({
      ...r,
      middleware: guard(r.method, r.path, mutating),
      security: auth ? [{ bearer: [] }] : undefined,
      description: `${r.description ?? ""}\n\nRequires scope \`${
        CALLS_ROUTE_SCOPES[`${r.method.toUpperCase()} ${r.path}`]
      }\`.`.trim(),
    });

  app.openapi(
    route({
      method: "post",
      path: "/v1/calls",
      summary: "Originate a call",
      request: { body: { ...json(OriginateBody), required: true } },
      responses: {
        201: { ...json(CallSchema), description: "The call, dialing" },
        400: problem("Invalid JSON or Idempotency-Key"),
        413: problem("Body too large"),
        415: problem("Not JSON"),
        422: problem("Validation failed, destination not allowed, or idempotency key reused"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      return await respond(
        calls.store,
        c.var.idempotency,
        201,
        (claim) => calls.originate(body, claim),
      ) as never;
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/calls",
      summary: "List calls, newest first",
      request: { query: ListQuery },
      responses: {
        200: { ...json(CallPageSchema), description: "A page of calls" },
        400: problem("Invalid query"),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      try {
        const page = await calls.list(
          {
            status: q.status as Call["status"] | undefined,
            direction: q.direction,
            createdAfter: q.createdAfter ? Date.parse(q.createdAfter) : undefined,
            createdBefore: q.createdBefore ? Date.parse(q.createdBefore) : undefined,
            sids: visibleSids?.(c),
          },
          q.limit,
          q.cursor,
        );
        return c.json(page, 200) as never;
      } catch (error) {
        if (error instanceof InvalidCursorError) {
          throw new ProblemError(400, "invalid-cursor", "The cursor is not one this API issued");
        }
        throw error;
      }
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/calls/{sid}",
      summary: "Get a call",
      request: { params: SidParam },
      responses: {
        200: { ...json(CallSchema), description: "The call" },
        404: problem("No such call"),
      },
    }),
    async (c) => c.json(await calls.get(c.req.valid("param").sid), 200) as never,
  );

  for (
    const [action, summary] of [
      ["hangup", "Hang up: ends the call and both of its tracks"],
      ["answer", "Answer a ringing call (attaching the caller leg also answers)"],
    ] as const
  ) {
    app.openapi(
      route({
        method: "post",
        path: `/v1/calls/{sid}/${action}`,
        summary,
        request: { params: SidParam },
        responses: {
          200: { ...json(CallSchema), description: "The call after it" },
          404: problem("No such call"),
          409: problem("Illegal transition, e.g. hanging up a completed call"),
          422: problem("Idempotency key reused"),
        },
      }),
      async (c) => {
        const { sid } = c.req.valid("param");
        return await respond(
          calls.store,
          c.var.idempotency,
          200,
          (claim) => action === "hangup" ? calls.hangup(sid, claim) : calls.answer(sid, claim),
        ) as never;
      },
    );
  }

  app.openapi(
    route({
      method: "post",
      path: "/v1/calls/{sid}/transfer",
      summary: "Transfer the far end to a number, a client or an agent; the sid stays",
      request: { params: SidParam, body: { ...json(TransferBody), required: true } },
      responses: {
        200: { ...json(CallSchema), description: "The call, with the transfer recorded" },
        404: problem("No such call"),
        409: problem("The call is not in progress"),
        422: problem("Validation failed, destination not allowed, or idempotency key reused"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      const body = c.req.valid("json") as { to: string } | { agent: string };
      return await respond(
        calls.store,
        c.var.idempotency,
        200,
        (claim) => calls.transfer(sid, body, claim),
      ) as never;
    },
  );

  app.openapi(
    route({
      method: "post",
      path: "/v1/calls/{sid}/digits",
      summary: "Play DTMF digits (RFC 4733) to the far end of a SIP leg",
      request: { params: SidParam, body: { ...json(DigitsBody), required: true } },
      responses: {
        200: { ...json(CallSchema), description: "The call; the digits are being played" },
        404: problem("No such call"),
        409: problem("The call is not in progress or has no SIP leg"),
        422: problem("Validation failed, destination not allowed, or idempotency key reused"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      const { digits } = c.req.valid("json") as { digits: string };
      return await respond(
        calls.store,
        c.var.idempotency,
        200,
        () => calls.sendDigits(sid, digits),
      ) as never;
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/calls/{sid}/events",
      summary: "Server-sent events: the current status, then every status, media, transfer, " +
        "dtmf, speech, transcript and asr event",
      request: { params: SidParam },
      responses: {
        200: sse(
          "`status`, `media`, `transfer`, `dtmf`, `speech`, `transcript` and `asr` events",
        ),
        404: problem("No call"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      return await callEvents(c, calls, sid, keepAliveMs) as never;
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/calls/{sid}/transcript",
      summary: "The call's transcript: the finals so far, in the order the recognizer gave them",
      description: "Filled by a speech recognizer tapping the call (the `builtin:asr-tap` " +
        "plugin); empty when none runs. Kept in the call store (it survives a restart), " +
        "bounded per call.",
      request: { params: SidParam },
      responses: {
        200: { ...json(TranscriptSchema), description: "The finals so far" },
        404: problem("No such call"),
      },
    }),
    async (c) => {
      const { sid } = c.req.valid("param");
      await calls.get(sid);
      return c.json(await calls.transcripts.get(sid), 200) as never;
    },
  );

  app.openapi(
    route({
      method: "post",
      path: "/v1/clients/{identity}/register",
      summary: "Register a client so that client:<identity> can be rung",
      request: { params: IdentityParam },
      responses: {
        200: { ...json(ClientSchema), description: "The registration" },
        422: problem("Idempotency key reused"),
      },
    }),
    async (c) => {
      const { identity } = c.req.valid("param");
      return await respond(
        calls.store,
        c.var.idempotency,
        200,
        (claim) => calls.registerClient(identity, claim),
      ) as never;
    },
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/clients/{identity}",
      summary: "A client's registration",
      request: { params: IdentityParam },
      responses: {
        200: { ...json(ClientSchema), description: "The registration" },
        404: problem("Not registered"),
      },
    }),
    async (c) => c.json(await calls.getClient(c.req.valid("param").identity), 200) as never,
  );

  app.openapi(
    route({
      method: "get",
      path: "/v1/clients/{identity}/incoming",
      summary: "Server-sent events: `ring` for each call to client:<identity>, `cancel`",
      request: { params: IdentityParam },
      responses: { 200: sse("`ring` and `cancel` events"), 404: problem("Not registered") },
    }),
    async (c) => {
      const { identity } = c.req.valid("param");
      await calls.getClient(identity);
      return await incomingEvents(c, calls, identity, keepAliveMs) as never;
    },
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.get("/openapi.json", (c) =>
    c.json(app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "ClutchCall Voice — Calls API",
        version: "1",
        description: "Errors are application/problem+json (RFC 9457). Every POST honours " +
          "Idempotency-Key.",
      },
    })));

  app.onError((error, c) => errorResponse(error, c));
  return app;
}

/**
 * What route modules mounted beside the Calls API build with (the agent routes'
 * `CallsRouteKit`): its call and sid schemas and its error mapping.
 */
export const callsRouteKit = {
  schemas: { call: CallSchema, sidParam: SidParam },
  errorResponse: (error: unknown, c: Context): Response => errorResponse(error, c),
} as const;

/** Maps any error to a problem response: the domain's {@linkcode CallError}s by kind. */
export function errorResponse(error: unknown, c: Context): Response {
  if (error instanceof CallError) {
    const problem = callProblem(error);
    const response = problemResponse(problem, c.req.path);
    if (error instanceof StoreUnavailableError) {
      response.headers.set("retry-after", String(error.retryAfterSec));
    }
    return response;
  }
  if (error instanceof ProblemError) return problemResponse(error, c.req.path);
  if (error instanceof HTTPException) {
    if (error.status === 400 && /JSON/i.test(error.message)) {
      return problemResponse(new ProblemError(400, "invalid-json", error.message), c.req.path);
    }
    if (error.status === 401) {
      return problemResponse(new ProblemError(401, "unauthorized", error.message), c.req.path);
    }
    if (error.status === 403) {
      return problemResponse(new ProblemError(403, "forbidden", error.message), c.req.path);
    }
    if (error.status === 413) {
      return problemResponse(new ProblemError(413, "payload-too-large"), c.req.path);
    }
    const res = error.getResponse();
    return new Response(
      JSON.stringify({
        type: "about:blank",
        title: res.statusText || "Error",
        status: error.status,
        detail: error.message,
      }),
      { status: error.status, headers: { "content-type": "application/problem+json" } },
    );
  }
  if (error instanceof TypeError && /Invalid (phone|SIP|client)/.test(error.message)) {
    return problemResponse(new ProblemError(422, "validation-failed", error.message), c.req.path);
  }
  // Unexpected: logged with its message and stack, never sent (it may name internals).
  console.error("Calls API: unexpected error", c.req.method, c.req.path, error);
  return problemResponse(
    new ProblemError(500, "internal-error", "The server failed to handle the request"),
    c.req.path,
  );
}

/** The problem for a domain refusal (the one place its kinds meet HTTP statuses). */
function callProblem(error: CallError): ProblemError {
  switch (error.kind) {
    case "call_not_found":
    case "client_not_found":
      return new ProblemError(404, "not-found", error.message);
    case "illegal_transition":
      return new ProblemError(409, "illegal-transition", error.message, {
        currentStatus: (error as IllegalCallTransitionError).currentStatus,
      });
    case "conflict":
      return new ProblemError(409, "conflict", error.message);
    case "destination_refused":
      return new ProblemError(422, "destination-not-allowed", error.message, {
        to: (error as DestinationRefusedError).to,
      });
    case "callback_refused":
      return new ProblemError(422, "url-not-allowed", error.message, {
        reason: (error as CallbackRefusedError).reason,
      });
    case "invalid_filter":
      return new ProblemError(422, "validation-failed", error.message);
    case "gateway_failed": {
      // 481: the leg's dialog is gone (the call is ending): a conflict with the call's state,
      // as for a call with no leg; anything else the gateway refused is a bad gateway.
      const { gatewayStatus } = error as GatewayFailedError;
      return gatewayStatus === 481
        ? new ProblemError(409, "conflict", error.message, { gatewayStatus })
        : new ProblemError(502, "gateway-failed", error.message, { gatewayStatus });
    }
    case "store_unavailable":
      return new ProblemError(503, "service-unavailable", error.message);
    case "idempotency_race":
      return new ProblemError(409, "idempotency-key-in-use", error.message);
  }
}

let eventId = 0;

async function pump<T>(
  c: Context,
  subscribe: (push: (event: T) => void) => () => void,
  initial: () => Promise<T[]>,
  write: (stream: SSEStreamingApi, event: T) => Promise<boolean>,
  keepAliveMs: number,
  closing: AbortSignal,
  stale?: (event: T, snapshot: T[]) => boolean,
): Promise<Response> {
  // Subscribe first so nothing between the snapshot and the subscription is lost.
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  const stop = subscribe((event) => {
    queue.push(event);
    wake?.();
  });
  let first: T[];
  try {
    first = await initial();
  } catch (error) {
    stop();
    throw error;
  }
  // Events queued while the snapshot was read may be older than it: drop those.
  queue.splice(0, queue.length, ...first, ...queue.filter((e) => !stale?.(e, first)));
  return streamSSE(c, async (stream) => {
    let open = true;
    const end = () => {
      open = false;
      wake?.();
    };
    stream.onAbort(end);
    closing.addEventListener("abort", end, { once: true });
    if (closing.aborted) end();
    const keepAlive = setInterval(() => void stream.write(": keep-alive\n\n"), keepAliveMs);
    try {
      while (open) {
        const event = queue.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
          continue;
        }
        if (!await write(stream, event)) {
          // The last event: let the ones it causes (tracks ending) through, then close.
          await stream.sleep(100);
          for (const rest of queue.splice(0)) await write(stream, rest);
          break;
        }
      }
    } finally {
      closing.removeEventListener("abort", end);
      clearInterval(keepAlive);
      stop();
    }
  });
}

function callEvents(
  c: Context,
  calls: CallService,
  sid: string,
  keepAliveMs: number,
): Promise<Response> {
  // Status only moves forward, so a status event that does not advance past the last one
  // sent repeats what the client already has (e.g. the snapshot read just after the store
  // write, with the write's event arriving after it): it is skipped.
  let sentStatus = -1;
  return pump<CallEvent>(
    c,
    (push) => calls.events.onCall(sid, push),
    async () => {
      const call = await calls.get(sid);
      return [{ type: "status", sid, at: new Date().toISOString(), call }];
    },
    async (stream, event) => {
      if (event.type === "status") {
        const index = CALL_STATUSES.indexOf(event.call.status);
        if (index <= sentStatus) return true;
        sentStatus = index;
      }
      await stream.writeSSE({ event: event.type, data: JSON.stringify(event), id: `${++eventId}` });
      return !(event.type === "status" && isTerminal(event.call.status));
    },
    keepAliveMs,
    calls.closing,
    (event, [snapshot]) =>
      event.type === "status" && snapshot.type === "status" &&
      CALL_STATUSES.indexOf(event.call.status) <= CALL_STATUSES.indexOf(snapshot.call.status),
  );
}

function incomingEvents(
  c: Context,
  calls: CallService,
  identity: string,
  keepAliveMs: number,
): Promise<Response> {
  return pump<IncomingEvent>(
    c,
    (push) => calls.events.onIncoming(identity, push),
    async () => (await calls.ringing(identity)).map((call) => ({ type: "ring", call })),
    async (stream, event) => {
      await stream.writeSSE({ event: event.type, data: JSON.stringify(event), id: `${++eventId}` });
      return true;
    },
    keepAliveMs,
    calls.closing,
  );
}

export { outcomeResponse };
