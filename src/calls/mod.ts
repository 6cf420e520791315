/**
 * The Calls control plane: the call model and its state machine, the store (Deno KV by
 * default), the service (originate, answer, transfer, hang up, ring clients, reconcile after
 * a restart), signed status callbacks, and the HTTP API with its OpenAPI document.
 *
 * @example
 * ```ts ignore
 * import { CallService, createCallsApi, KvCallStore } from "./mod.ts";
 * const calls = new CallService({ store: await KvCallStore.open(`${dataDir}/calls.kv`), origin, log });
 * await calls.start();
 * app.route("/", createCallsApi({ calls }));
 * ```
 *
 * @module
 */
export * from "./status.ts";
export * from "./address.ts";
export * from "./call.ts";
export * from "./store.ts";
export * from "./kv_store.ts";
export * from "./events.ts";
export * from "./gateway.ts";
export * from "./errors.ts";
export * from "../http/problem.ts";
export * from "./webhook.ts";
export * from "./url_policy.ts";
export * from "./scopes.ts";
export * from "./service.ts";
export * from "../http/idempotency.ts";
export {
  type CallsApiOptions,
  type CallsApiVariables,
  callsRouteKit,
  createCallsApi,
} from "./api.ts";
