/**
 * {@linkcode Grant}: what a verified token allows — its scopes and its resource limits — and
 * the checks routes and the relay make against it.
 *
 * ## The `voice` claim (resource limits)
 *
 * ```json
 * { "scope": "calls:read media:subscribe", "voice": { "sids": ["CA123"], "prefix": ["voice", "CA9"] } }
 * ```
 *
 * - No `voice` claim: the token is **unrestricted** (every call, every namespace), within its
 *   scopes.
 * - `voice.sids`: call sids the token may touch. A sid allows the HTTP resources of that call
 *   and the MoQT namespace `["voice", sid]` and everything below it.
 * - `voice.prefix`: a MoQT namespace prefix, as a tuple (element-wise, as SUBSCRIBE_NAMESPACE
 *   matches): every namespace that starts with it is allowed, and a call whose namespace
 *   `["voice", sid]` starts with it. `["voice"]` allows every call; `["agents", "a1"]` allows
 *   one agent's namespaces and no call.
 * - `voice.clients`: client identities the token may act for: register `client:<identity>`,
 *   read its registration and follow its incoming calls (`/v1/clients/{identity}/…`). A
 *   restricted token without it may touch no client; an unrestricted one, every client.
 * - `voice.originate: true`: the token may create calls (originate). A restricted token
 *   cannot name calls that do not exist yet, so without it originating is only for
 *   unrestricted tokens or ones whose prefix is `["voice"]` (see
 *   {@linkcode Grant.allowsOriginate}). The call it creates is not added to its limits.
 * - Several keys: the union. `"voice": {}` allows nothing.
 *
 * Everywhere a route shows calls (a list, recordings), a restricted token sees only the calls
 * its limits allow ({@linkcode Grant.visibleSids}).
 *
 * @module
 */
import type { Authorize } from "../relay/model/authorize.ts";
import { callNamespace, parseSid } from "../voice/sid.ts";
import { AuthError } from "./error.ts";
import type { Scope } from "./scope.ts";

/** Longest prefix tuple accepted in a `voice.prefix` claim (draft-14's namespace limit). */
const MAX_PREFIX_ELEMENTS = 32;
/** Most sids (or client identities) accepted in a `voice` claim (keeps tokens and checks small). */
const MAX_SIDS = 1000;
/** A client identity as `client:<identity>` addresses accept it (see `src/calls/address.ts`). */
const IDENTITY = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/;

/**
 * The `voice` claim: which calls and namespaces a token may touch.
 *
 * @example
 * ```ts
 * import type { ResourceLimits } from "./grant.ts";
 * const limits: ResourceLimits = { sids: ["CA1", "CA2"] };
 * ```
 */
export interface ResourceLimits {
  /** Call sids; each allows `["voice", sid]` and below. */
  readonly sids?: readonly string[];
  /** A namespace prefix tuple. */
  readonly prefix?: readonly string[];
  /** Client identities (`client:<identity>`) the token may act for. */
  readonly clients?: readonly string[];
  /** True: the token may originate new calls. */
  readonly originate?: boolean;
}

/**
 * Validates a `voice` claim.
 *
 * @throws {TypeError} With a precise reason when the claim has the wrong shape
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseVoiceClaim } from "./grant.ts";
 * assertEquals(parseVoiceClaim({ sids: ["CA1"] }), { sids: ["CA1"] });
 * assertEquals(parseVoiceClaim({ clients: ["alice"], originate: true }), {
 *   clients: ["alice"],
 *   originate: true,
 * });
 * assertEquals(parseVoiceClaim(undefined), undefined); // unrestricted
 * ```
 */
export function parseVoiceClaim(value: unknown): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError("Invalid voice claim: expected an object");
  }
  const { sids, prefix, clients, originate, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw new TypeError(
      `Invalid voice claim: unknown key "${unknown[0]}" (known: sids, prefix, clients, originate)`,
    );
  }
  const limits: { sids?: string[]; prefix?: string[]; clients?: string[]; originate?: boolean } =
    {};
  if (sids !== undefined) {
    if (!Array.isArray(sids) || sids.length > MAX_SIDS) {
      throw new TypeError(`Invalid voice claim: sids must be an array of at most ${MAX_SIDS}`);
    }
    limits.sids = sids.map((sid) => {
      if (typeof sid !== "string") throw new TypeError("Invalid voice claim: sids must be strings");
      return parseSid(sid);
    });
  }
  if (prefix !== undefined) {
    if (
      !Array.isArray(prefix) || prefix.length > MAX_PREFIX_ELEMENTS ||
      !prefix.every((e) => typeof e === "string")
    ) {
      throw new TypeError(
        `Invalid voice claim: prefix must be an array of at most ${MAX_PREFIX_ELEMENTS} strings`,
      );
    }
    limits.prefix = prefix;
  }
  if (clients !== undefined) {
    if (
      !Array.isArray(clients) || clients.length > MAX_SIDS ||
      !clients.every((e) => typeof e === "string" && IDENTITY.test(e))
    ) {
      throw new TypeError(
        `Invalid voice claim: clients must be an array of at most ${MAX_SIDS} client identities`,
      );
    }
    limits.clients = clients;
  }
  if (originate !== undefined) {
    if (typeof originate !== "boolean") {
      throw new TypeError("Invalid voice claim: originate must be a boolean");
    }
    limits.originate = originate;
  }
  return Object.freeze(limits);
}

function startsWith(namespace: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= namespace.length && prefix.every((e, i) => namespace[i] === e);
}

/**
 * What a verified token allows. Routes get one from `c.get("auth")`; the relay asks
 * {@linkcode Grant.authorizeMoq} for each publish and subscribe.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Grant } from "./grant.ts";
 * const grant = new Grant({
 *   scopes: new Set(["calls:read"]),
 *   limits: { sids: ["CA1"] },
 *   expiresAt: new Date(Date.now() + 60_000),
 * });
 * assertEquals([grant.has("calls:read"), grant.allowsSid("CA1"), grant.allowsSid("CA2")], [
 *   true,
 *   true,
 *   false,
 * ]);
 * ```
 */
export class Grant {
  /** The token's `sub`, when it has one (e.g. `client:alice`). */
  readonly subject: string | undefined;
  /** The known scopes the token carries. */
  readonly scopes: ReadonlySet<Scope>;
  /** The `voice` limits; undefined means unrestricted. */
  readonly limits: ResourceLimits | undefined;
  /** When the token stops being valid. */
  readonly expiresAt: Date;
  /** Every claim of the token, as verified. */
  readonly claims: Readonly<Record<string, unknown>>;

  /** Creates a grant; {@linkcode TokenVerifier} builds them from tokens. */
  constructor(init: {
    scopes: ReadonlySet<Scope>;
    limits?: ResourceLimits;
    expiresAt: Date;
    subject?: string;
    claims?: Record<string, unknown>;
  }) {
    this.scopes = init.scopes;
    this.limits = init.limits;
    this.expiresAt = init.expiresAt;
    this.subject = init.subject;
    this.claims = Object.freeze({ ...init.claims });
  }

  /** True when the token carries `scope`. */
  has(scope: Scope): boolean {
    return this.scopes.has(scope);
  }

  /**
   * Throws unless the token carries `scope`.
   *
   * @throws {AuthError} `insufficient_scope` (403)
   */
  require(scope: Scope): void {
    if (!this.has(scope)) {
      throw new AuthError("insufficient_scope", `Token lacks the "${scope}" scope`, { scope });
    }
  }

  /** True when the token has no `voice` limits. */
  get unrestricted(): boolean {
    return this.limits === undefined;
  }

  /** True when the token may touch every call, existing or not. */
  get allowsAnySid(): boolean {
    return this.limits === undefined ||
      (this.limits.prefix !== undefined && startsWith(["voice"], this.limits.prefix));
  }

  /** True when the token may create calls: {@linkcode allowsAnySid} or `voice.originate`. */
  get allowsOriginate(): boolean {
    return this.allowsAnySid || this.limits?.originate === true;
  }

  /**
   * Throws unless the token may create calls.
   *
   * @throws {AuthError} `forbidden_resource` (403)
   */
  requireOriginate(): void {
    if (!this.allowsOriginate) {
      throw new AuthError(
        "forbidden_resource",
        'Token is limited to some calls and may not originate new ones (no "originate" claim)',
      );
    }
  }

  /**
   * The calls this token may see: `undefined` when it may see every call, else the finite
   * set of sids its limits name (a `["voice", sid]` prefix names one sid).
   *
   * @example
   * ```ts
   * import { assertEquals } from "@std/assert";
   * import { Grant } from "./grant.ts";
   * const grant = new Grant({
   *   scopes: new Set(["calls:read"]),
   *   limits: { sids: ["CA1"], prefix: ["voice", "CA2"] },
   *   expiresAt: new Date(Date.now() + 60_000),
   * });
   * assertEquals(grant.visibleSids(), ["CA1", "CA2"]);
   * ```
   */
  visibleSids(): readonly string[] | undefined {
    if (this.allowsAnySid) return undefined;
    const { sids = [], prefix } = this.limits!;
    const out = new Set(sids);
    if (prefix?.length === 2 && prefix[0] === "voice") out.add(prefix[1]);
    return [...out];
  }

  /** True when the token may act for client `identity` (`/v1/clients/{identity}/…`). */
  allowsClient(identity: string): boolean {
    return this.limits === undefined || (this.limits.clients?.includes(identity) ?? false);
  }

  /**
   * Throws unless the token may act for client `identity`.
   *
   * @throws {AuthError} `forbidden_resource` (403)
   */
  requireClient(identity: string): void {
    if (!this.allowsClient(identity)) {
      throw new AuthError(
        "forbidden_resource",
        `Token does not allow client "${identity}" (it needs a "clients" claim naming it)`,
      );
    }
  }

  /** True when the token may touch call `sid`. */
  allowsSid(sid: string): boolean {
    if (!this.limits) return true;
    const { sids, prefix } = this.limits;
    return (sids?.includes(sid) ?? false) ||
      (prefix !== undefined && startsWith(callNamespace(sid), prefix));
  }

  /**
   * Throws unless the token may touch call `sid`.
   *
   * @throws {AuthError} `forbidden_resource` (403)
   */
  requireSid(sid: string): void {
    if (!this.allowsSid(sid)) {
      throw new AuthError("forbidden_resource", `Token does not allow call "${sid}"`);
    }
  }

  /** True when the token may use `namespace` (or, for SUBSCRIBE_NAMESPACE, a prefix). */
  allowsNamespace(namespace: readonly string[]): boolean {
    if (!this.limits) return true;
    const { sids, prefix } = this.limits;
    return (prefix !== undefined && startsWith(namespace, prefix)) ||
      (sids?.some((sid) => startsWith(namespace, callNamespace(sid))) ?? false);
  }

  /**
   * The relay's per-request check for a connection this token authorized:
   * `media:publish` for PUBLISH_NAMESPACE / PUBLISH, `media:subscribe` for SUBSCRIBE /
   * SUBSCRIBE_NAMESPACE, within the `voice` limits, and only until the token expires (a
   * request after that is refused; the session itself stays up). Its `identity` is the
   * token's subject: a reconnecting peer with the same subject takes over its old session's
   * publications, another subject cannot.
   */
  authorizeMoq(): Authorize {
    const expiresAt = this.expiresAt.getTime();
    const authorize = (operation: "publish" | "subscribe", namespace: readonly string[]) =>
      Date.now() < expiresAt &&
      this.has(operation === "publish" ? "media:publish" : "media:subscribe") &&
      this.allowsNamespace(namespace);
    // The subject names the peer: only the same subject may take over its publications.
    return Object.assign(authorize, { identity: this.subject });
  }
}
