/**
 * Where the server may send requests to URLs an API caller gave it (`statusCallback`, any
 * webhook): never to loopback, link-local, private or otherwise non-public addresses unless
 * the config's `webhooks.allowNetworks` lists them (SSRF), judged on the addresses the host
 * resolves to, not only on the literal; redirects are followed a bounded number of times,
 * each hop checked again.
 *
 * Config (`webhooks` section of the config file):
 *
 * ```json
 * { "webhooks": { "allowNetworks": ["127.0.0.0/8", "::1/128"], "maxRedirects": 3 } }
 * ```
 *
 * Residual risk, written down: the check resolves the host with the system resolver just
 * before each request, and `fetch` resolves it again, so a DNS answer that changes within
 * that instant (rebinding with a zero TTL) is not caught; Deno's `fetch` cannot be pinned to
 * a resolved address for https without breaking certificate checks.
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import { lookup } from "node:dns/promises";
import { z } from "zod";

/** Most redirects followed by default (curl's `--max-redirs` style bound). */
const DEFAULT_MAX_REDIRECTS = 3;

const cidr: z.ZodType<string, string> = z.string().refine((value) => {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch (_invalid) { // the refinement's answer: not a CIDR
    return false;
  }
}, { message: 'Expected a CIDR block, e.g. "127.0.0.0/8" or "::1/128"' });

/**
 * The `webhooks` config section.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { webhooksConfigSchema } from "./url_policy.ts";
 * const config = webhooksConfigSchema.parse({ allowNetworks: ["127.0.0.0/8"] });
 * assertEquals(config.maxRedirects, 3);
 * ```
 */
export const webhooksConfigSchema: z.ZodType<
  WebhooksConfig,
  { allowNetworks?: string[]; maxRedirects?: number }
> = z.strictObject({
  /** Non-public networks webhook URLs may reach anyway (e.g. loopback for a local receiver). */
  allowNetworks: z.array(cidr).max(64).default([]),
  /** Redirects followed per delivery, each checked like the first URL. */
  maxRedirects: z.number().int().min(0).max(10).default(DEFAULT_MAX_REDIRECTS),
});

/** The validated `webhooks` section. */
export interface WebhooksConfig {
  /** Non-public networks (CIDR) webhook URLs may reach anyway [none]. */
  readonly allowNetworks: readonly string[];
  /** Redirects followed per delivery [3]. */
  readonly maxRedirects: number;
}

/** Why a URL was refused. */
export type UrlRefusal = "scheme" | "credentials" | "address" | "unresolvable" | "redirects";

/**
 * A URL the server will not send to.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { UrlRefusedError } from "./url_policy.ts";
 * const error = new UrlRefusedError("address", "Refused http://127.0.0.1/: 127.0.0.1 is loopback");
 * assertEquals(error.reason, "address");
 * ```
 */
export class UrlRefusedError extends Error {
  /** What is wrong with it. */
  readonly reason: UrlRefusal;

  /** Creates the error. */
  constructor(reason: UrlRefusal, message: string) {
    super(message);
    this.name = "UrlRefusedError";
    this.reason = reason;
  }
}

/** Options for an {@linkcode OutboundUrlPolicy}. */
export interface OutboundUrlPolicyOptions {
  /** Non-public networks allowed anyway (CIDR) [none]. */
  readonly allowNetworks?: readonly string[];
  /** Redirects followed per request [3]. */
  readonly maxRedirects?: number;
  /** Resolves a host name to its addresses [the system resolver, as `fetch` uses]. */
  readonly resolve?: (host: string) => Promise<readonly string[]>;
}

/**
 * Checks and fetches URLs given by API callers.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { OutboundUrlPolicy, UrlRefusedError } from "./url_policy.ts";
 * const policy = new OutboundUrlPolicy();
 * try {
 *   await policy.check("http://127.0.0.1:8080/admin");
 * } catch (error) {
 *   assertEquals(error instanceof UrlRefusedError, true); // loopback is refused
 * }
 * ```
 */
export class OutboundUrlPolicy {
  readonly #allow: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
  readonly #maxRedirects: number;
  readonly #resolve: (host: string) => Promise<readonly string[]>;

  /** Creates a policy. */
  constructor(options: OutboundUrlPolicyOptions = {}) {
    this.#allow = (options.allowNetworks ?? []).map((c) => ipaddr.parseCIDR(c));
    this.#maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.#resolve = options.resolve ?? systemResolve;
  }

  /**
   * Resolves when the server may send to `url`: http(s), no credentials, and every address
   * its host resolves to public or in `allowNetworks`.
   *
   * @throws {UrlRefusedError} Naming the reason
   */
  async check(url: string | URL): Promise<URL> {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UrlRefusedError("scheme", `Refused ${parsed.href}: only http and https`);
    }
    if (parsed.username || parsed.password) {
      throw new UrlRefusedError("credentials", `Refused ${parsed.origin}: credentials in the URL`);
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    const addresses = ipaddr.isValid(host) ? [host] : await this.#lookup(host, parsed);
    for (const text of addresses) {
      const address = ipaddr.process(text);
      const range = address.range();
      if (range === "unicast") continue;
      if (this.#allow.some((net) => sameKind(address, net[0]) && address.match(net))) continue;
      throw new UrlRefusedError(
        "address",
        `Refused ${parsed.origin}: ${host} resolves to ${address} (${range}), not a public ` +
          `address; webhooks.allowNetworks can allow it`,
      );
    }
    return parsed;
  }

  /**
   * `fetch` with every hop checked: redirects are followed by hand (at most `maxRedirects`),
   * keeping the method and body (a webhook's POST is not turned into a GET, as curl's
   * `--post301/--post302` do).
   *
   * @throws {UrlRefusedError} When a hop is refused or there are too many redirects
   */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    let target = await this.check(url);
    for (let hop = 0;; hop++) {
      const response = await fetch(target, { ...init, redirect: "manual" });
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || location === null) return response;
      await response.body?.cancel();
      if (hop >= this.#maxRedirects) {
        throw new UrlRefusedError(
          "redirects",
          `Refused ${target.origin}: more than ${this.#maxRedirects} redirects`,
        );
      }
      target = await this.check(new URL(location, target));
    }
  }

  async #lookup(host: string, url: URL): Promise<readonly string[]> {
    let addresses: readonly string[];
    try {
      addresses = await this.#resolve(host);
    } catch (error) {
      throw new UrlRefusedError(
        "unresolvable",
        `Refused ${url.origin}: cannot resolve ${host}: ${(error as Error).message}`,
      );
    }
    if (addresses.length === 0) {
      throw new UrlRefusedError("unresolvable", `Refused ${url.origin}: ${host} has no address`);
    }
    return addresses;
  }
}

function sameKind(a: ipaddr.IPv4 | ipaddr.IPv6, b: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return a.kind() === b.kind();
}

async function systemResolve(host: string): Promise<readonly string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}
