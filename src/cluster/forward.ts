/**
 * Control requests for a call go to the node that owns its legs: a hangup, transfer, digits,
 * answer or agent bind (`POST`/`DELETE /v1/calls/{sid}` and below, and the in-memory
 * transcript) sent to another node is forwarded over HTTP to the owner's advertised URL, with
 * the caller's headers (its token is checked again there) and body, and the owner's answer
 * is returned as it is. Reads from the store (`GET /v1/calls/{sid}`) and event streams are
 * answered by any node. An originate to a phone number (`POST /v1/calls`, `to` not a
 * `client:`) on a node without a SIP gateway is forwarded to a live node that has one; an
 * originate on a node whose cluster lease is not current is refused (503, retry).
 *
 * A forwarded request carries `X-ClutchCall-Forwarded-By`; a node never forwards such a
 * request again (no loops if two nodes disagree on the owner for a moment).
 *
 * @module
 */
import { Hono } from "hono";
import type { Logger } from "../log/mod.ts";
import type { NodeInfo } from "./node_lease.ts";
import { PROBLEM_BASE, type ProblemDetails } from "../api/problem.ts";

/** The header marking a forwarded request. */
export const FORWARDED_HEADER = "X-ClutchCall-Forwarded-By";

/** Options for {@linkcode createForwarder}. */
export interface ForwarderOptions {
  readonly nodeId: string;
  /** The owning node of a live call (undefined: ended, unknown). */
  readonly ownerOf: (sid: string) => Promise<string | undefined>;
  /** A live node's info (undefined: its lease expired). */
  readonly peer: (nodeId: string) => Promise<NodeInfo | undefined>;
  /**
   * Where an originate to a phone number goes when this node has no SIP gateway: a live node
   * that has one (undefined: this node answers it itself) [none].
   */
  readonly gatewayNode?: () => Promise<NodeInfo | undefined>;
  /**
   * Why this node must not create calls now (its cluster lease is not current: a call it
   * created would be ended as lost), or undefined [always may].
   */
  readonly notReady?: () => string | undefined;
  readonly log: Logger;
}

/**
 * Routes to mount before the Calls API: they forward what belongs to another node and pass
 * everything else on.
 *
 * @example
 * ```ts ignore
 * import { createForwarder } from "./forward.ts";
 * const app = createForwarder({ nodeId: "a", ownerOf, peer, log });
 * ```
 */
export function createForwarder(options: ForwarderOptions): Hono {
  const { nodeId, ownerOf, peer, gatewayNode, notReady, log } = options;
  const app = new Hono();
  type Context = Parameters<Parameters<typeof app.use>[1]>[0];
  const forward = async (c: Context, next: () => Promise<void>) => {
    const sid = c.req.param("sid");
    const method = c.req.method;
    const transcript = c.req.path.endsWith("/transcript");
    if (!sid || c.req.header(FORWARDED_HEADER) || (method === "GET" && !transcript)) {
      return await next();
    }
    const owner = await ownerOf(sid);
    if (!owner || owner === nodeId) return await next();
    const info = await peer(owner);
    // The owner is gone: its calls are being ended; this node answers from the store.
    if (!info) return await next();
    return await forwardTo(c, info, sid, owner);
  };
  // An originate to a phone number on a node without a SIP gateway: placed by one that has
  // one (the call and its SIP leg then live there). `client:` calls stay here.
  const originate = async (c: Context, next: () => Promise<void>) => {
    if (c.req.method !== "POST") return await next();
    const why = notReady?.();
    if (why) {
      const problem: ProblemDetails = {
        type: `${PROBLEM_BASE}node-not-ready`,
        title: "This node cannot take calls now",
        status: 503,
        detail: why,
        instance: c.req.path,
      };
      return new Response(JSON.stringify(problem), {
        status: 503,
        headers: { "content-type": "application/problem+json", "retry-after": "1" },
      });
    }
    if (!gatewayNode || c.req.header(FORWARDED_HEADER)) return await next();
    let to: unknown;
    try {
      to = (await c.req.raw.clone().json())?.to;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return await next(); // not JSON: the Calls API says why
    }
    if (typeof to !== "string" || to.startsWith("client:")) return await next();
    const info = await gatewayNode();
    if (!info) return await next();
    return await forwardTo(c, info, undefined, info.nodeId);
  };
  const forwardTo = async (c: Context, info: NodeInfo, sid: string | undefined, owner: string) => {
    const response = await forwardRequest(c.req.raw, info, { nodeId, log });
    if (response.ok) {
      log.debug("Forwarded a call request to its node", {
        sid,
        owner,
        method: c.req.method,
        path: c.req.path,
      });
    }
    return response;
  };
  app.use("/v1/calls", originate);
  app.use("/v1/calls/:sid", forward);
  app.use("/v1/calls/:sid/*", forward);
  return app;
}

/**
 * Sends `request` on to the node `info` (its advertised HTTP URL, same path and query) with
 * the caller's headers — its token is checked again there — and body, marked with
 * {@linkcode FORWARDED_HEADER}, and returns that node's answer as it is; a node that does not
 * answer is a 503 problem (`node-unreachable`, retry).
 *
 * @example
 * ```ts ignore
 * import { forwardRequest } from "./forward.ts";
 * const response = await forwardRequest(request, peerInfo, { nodeId: "a", log });
 * ```
 */
export async function forwardRequest(
  request: Request,
  info: NodeInfo,
  { nodeId, log }: { readonly nodeId: string; readonly log: Logger },
): Promise<Response> {
  const method = request.method;
  const incoming = new URL(request.url);
  const url = new URL(incoming.pathname, info.http);
  url.search = incoming.search;
  const headers = new Headers(request.headers);
  headers.set(FORWARDED_HEADER, nodeId);
  headers.delete("host");
  headers.delete("content-length");
  const body = method === "GET" || method === "HEAD" ? undefined : await request.arrayBuffer();
  try {
    const response = await fetch(url, { method, headers, body, redirect: "manual" });
    return new Response(response.body, { status: response.status, headers: response.headers });
  } catch (error) {
    log.warn("Cannot forward a request to its node", {
      node: info.nodeId,
      path: incoming.pathname,
      error,
    });
    const problem: ProblemDetails = {
      type: `${PROBLEM_BASE}node-unreachable`,
      title: "The node holding this cannot be reached",
      status: 503,
      detail: `Node "${info.nodeId}" did not answer`,
      instance: incoming.pathname,
    };
    return new Response(JSON.stringify(problem), {
      status: 503,
      headers: { "content-type": "application/problem+json", "retry-after": "1" },
    });
  }
}
