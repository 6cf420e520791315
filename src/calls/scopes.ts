/**
 * Which scope each Calls API route needs, in one table, for the auth middleware: the API
 * sets `c.var.requiredScope` before running the auth middleware given to
 * {@linkcode createCallsApi}, and a resource-limited token can read the call's sid from
 * `c.req.param("sid")`.
 *
 * @module
 */

/** A scope the Calls API checks. */
export type CallsScope = "calls:read" | "calls:write";

/** `"<METHOD> <openapi path>"` → the scope it needs. */
export const CALLS_ROUTE_SCOPES: Readonly<Record<string, CallsScope>> = Object.freeze({
  "POST /v1/calls": "calls:write",
  "GET /v1/calls": "calls:read",
  "GET /v1/calls/{sid}": "calls:read",
  "POST /v1/calls/{sid}/hangup": "calls:write",
  "POST /v1/calls/{sid}/answer": "calls:write",
  "POST /v1/calls/{sid}/transfer": "calls:write",
  "POST /v1/calls/{sid}/digits": "calls:write",
  "GET /v1/calls/{sid}/events": "calls:read",
  "GET /v1/calls/{sid}/transcript": "calls:read",
  "POST /v1/clients/{identity}/register": "calls:write",
  "GET /v1/clients/{identity}": "calls:read",
  "GET /v1/clients/{identity}/incoming": "calls:read",
});
