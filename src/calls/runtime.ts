/**
 * The Calls control plane as the server runs it: the KV store at `<data-dir>/calls.kv` (or
 * the store given, e.g. Redis in cluster mode), the
 * webhook secret, the service (reconciling calls left live by a previous run) and the HTTP
 * API guarded by the auth middleware's scopes.
 *
 * @module
 */
import type { Hono, MiddlewareHandler } from "hono";
import { every } from "hono/combine";
import type { Origin } from "../relay/model/origin.ts";
import type { Logger } from "../log/mod.ts";
import { requireClient, requireOriginate, requireScope, requireSid } from "../auth/mod.ts";
import { createCallsApi } from "./api.ts";
import type { CallGateway } from "./gateway.ts";
import type { CallsScope } from "./scopes.ts";
import { KvCallStore } from "./kv_store.ts";
import type { CallStore } from "./store.ts";
import { CallService, type Readiness } from "./service.ts";
import { loadOrCreateWebhookSecret, WebhookSender } from "./webhook.ts";
import { OutboundUrlPolicy, type WebhooksConfig } from "./url_policy.ts";

/**
 * The auth checks of one Calls route: its scope, then the resource it names — a call
 * (`{sid}`: the token's `voice` limits must allow it), a client (`{identity}`: unrestricted
 * or a `voice.clients` claim naming it) or a new call (`POST /v1/calls`: unrestricted or a
 * claim allowing new calls).
 */
function routeAuth(scope: CallsScope, path: string, method: "GET" | "POST"): MiddlewareHandler {
  const checks: MiddlewareHandler[] = [requireScope(scope) as MiddlewareHandler];
  if (path.includes("{sid}")) checks.push(requireSid() as MiddlewareHandler);
  if (path.includes("{identity}")) checks.push(requireClient() as MiddlewareHandler);
  if (method === "POST" && path === "/v1/calls") {
    checks.push(requireOriginate() as MiddlewareHandler);
  }
  return every(...checks) as MiddlewareHandler;
}

/** Options for {@linkcode startCalls}. */
export interface StartCallsOptions {
  readonly origin: Origin;
  readonly dataDir: string;
  readonly log: Logger;
  /** Scope checks need `bearerAuth` mounted in front of the app [true]. */
  readonly requireScopes?: boolean;
  readonly gateway?: CallGateway;
  /** Where status callbacks may go (the config's `webhooks` section) [public addresses only]. */
  readonly webhooks?: Partial<WebhooksConfig>;
  /** Ring timeout for `client:` calls, ms [`CLUTCHCALL_RING_TIMEOUT_MS` or 30000]. */
  readonly ringTimeoutMs?: number;
  /** Grace for legs to come back after a restart, ms [`CLUTCHCALL_RECONCILE_GRACE_MS` or 3000]. */
  readonly reconcileGraceMs?: number;
  /** Resolves when legs can come back (the server listens): the grace starts then [at once]. */
  readonly reconcileWhen?: Promise<unknown>;
  /**
   * The store to use instead of Deno KV at `<dataDir>/calls.kv` (cluster mode: Redis). The
   * runtime owns it: closing the runtime closes it.
   */
  readonly store?: CallStore;
}

/** The running control plane. */
export interface CallsRuntime extends AsyncDisposable {
  /** The call service the API and the SIP gateway drive. */
  readonly service: CallService;
  /** The API, to mount at `/`. */
  readonly app: Hono;
  /**
   * Whether the control plane is ready (for `GET /readyz`): reconciliation after a restart
   * done, the store taking writes, no state change waiting to be persisted.
   */
  ready(): Readiness;
  /** Stops the service and webhooks, then closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the store, starts the service and builds the API.
 *
 * @example
 * ```ts ignore
 * import { startCalls } from "./runtime.ts";
 * const calls = await startCalls({ origin: relay.origin, dataDir, log });
 * app.route("/", calls.app);
 * ```
 */
export async function startCalls(options: StartCallsOptions): Promise<CallsRuntime> {
  const { origin, dataDir, log, requireScopes = true, gateway } = options;
  const env = (name: string) => {
    const value = Number(Deno.env.get(name));
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const store = options.store ?? await KvCallStore.open(`${dataDir}/calls.kv`);
  const secret = await loadOrCreateWebhookSecret(
    dataDir,
    Deno.env.get("CLUTCHCALL_WEBHOOK_SECRET") || undefined,
  );
  const urlPolicy = new OutboundUrlPolicy(options.webhooks);
  const webhooks = new WebhookSender({
    secret,
    log: log.child({ component: "webhooks" }),
    policy: urlPolicy,
  });
  const service = new CallService({
    store,
    origin,
    log: log.child({ component: "calls" }),
    webhooks,
    urlPolicy,
    gateway,
    ringTimeoutMs: options.ringTimeoutMs ?? env("CLUTCHCALL_RING_TIMEOUT_MS"),
    reconcileGraceMs: options.reconcileGraceMs ?? env("CLUTCHCALL_RECONCILE_GRACE_MS"),
    reconcileWhen: options.reconcileWhen,
  });
  await service.start();
  const app = createCallsApi({
    calls: service,
    auth: requireScopes ? routeAuth : undefined,
    visibleSids: requireScopes ? (c) => c.get("auth").visibleSids() : undefined,
  }) as unknown as Hono;
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      await service.close();
      webhooks.close();
      await webhooks.drain();
      store.close();
    })();
  return { service, app, ready: () => service.ready(), close, [Symbol.asyncDispose]: close };
}
