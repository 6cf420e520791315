/**
 * The `sip` section of the server's config file: where the gateway listens, what address it
 * puts in Contact and SDP, the RTP port range, the trunks and the inbound routes.
 *
 * ```json
 * {
 *   "sip": {
 *     "listen": { "host": "0.0.0.0", "port": 5060 },
 *     "transports": ["udp", "tcp"],
 *     "publicAddress": "203.0.113.7",
 *     "rtpPortRange": [20000, 29999],
 *     "trunks": [{
 *       "name": "carrier",
 *       "address": "198.51.100.10:5060",
 *       "transport": "udp",
 *       "credentials": { "username": "acct", "password": "secret", "realm": "carrier.example" },
 *       "allowFrom": ["198.51.100.0/24"],
 *       "outboundNumbers": ["+1", "+44"]
 *     }],
 *     "inbound": [
 *       { "match": "+14155550100", "action": { "client": "alice" } },
 *       { "match": "+1415555*", "action": { "agent": "support" } },
 *       { "match": "*", "action": { "webhook": "https://example.com/inbound" } }
 *     ]
 *   }
 * }
 * ```
 *
 * @module
 */
import { z } from "zod";
import { describeError } from "../config/issue.ts";

/** `udp` or `tcp`. */
export type SipTransportName = "udp" | "tcp";

/** Digest credentials for a trunk that challenges our requests. */
export interface TrunkCredentials {
  /** The digest username. */
  readonly username: string;
  /** The digest password. */
  readonly password: string;
  /** Only answer challenges from this realm (any realm when unset). */
  readonly realm?: string;
}

/** A SIP trunk: where outbound calls go and who may send INVITEs. */
export interface TrunkConfig {
  /** The trunk's name. */
  readonly name: string;
  /** `host:port` of the trunk's SIP signalling. */
  readonly address: string;
  /** The transport used to reach the trunk. */
  readonly transport: SipTransportName;
  /** Digest credentials to answer the trunk's challenges with. */
  readonly credentials?: TrunkCredentials;
  /** Source addresses (IPv4 `a.b.c.d` or `a.b.c.d/n`, IPv6 exact) allowed to send INVITEs. */
  readonly allowFrom: readonly string[];
  /** Called-number prefixes routed out through this trunk; `*` ends a pattern. */
  readonly outboundNumbers: readonly string[];
  /** New INVITEs per second this trunk may send (all its addresses together), beyond which
   * they get 503 with Retry-After [the section's `invitesPerSecond`]. */
  readonly invitesPerSecond?: number;
}

/** What to do with an inbound call. */
export type InboundAction =
  | { readonly client: string }
  | { readonly agent: string }
  | { readonly plugin: string }
  | { readonly webhook: string };

/** An inbound route: the called number (exact, or a prefix ending in `*`) and its action. */
export interface InboundRoute {
  /** The called number to match: exact, or a prefix ending in `*`. */
  readonly match: string;
  /** What to do with a matching call. */
  readonly action: InboundAction;
}

/** The validated `sip` section. */
export interface SipConfig {
  /** The address the gateway listens on [host `0.0.0.0`, port 5060]. */
  readonly listen: { readonly host: string; readonly port: number };
  /** The SIP transports to listen on [`["udp"]`]. */
  readonly transports: readonly SipTransportName[];
  /** The address put in Via/Contact/SDP; defaults to the listen host (or 127.0.0.1). */
  readonly publicAddress: string;
  /** The first and last UDP port for RTP [20000, 29999]. */
  readonly rtpPortRange: readonly [number, number];
  /** The configured trunks. */
  readonly trunks: readonly TrunkConfig[];
  /** Inbound routes. */
  readonly inbound: readonly InboundRoute[];
  /** How long an outbound call may ring before `no_answer`, ms [60000]. */
  readonly ringTimeoutMs: number;
  /** An answered call with no RTP for this long ends, ms [30000]. */
  readonly rtpTimeoutMs: number;
  /**
   * The RTP engine [`"auto"`: the best that works here, falling back to `"deno"`]; see
   * `src/rtp/engine/select.ts` (`CLUTCH_RTP_ENGINE` in the environment beats it).
   */
  readonly rtpEngine: "auto" | "xdp" | "io_uring" | "deno";
  /** Largest SIP message accepted, bytes [8192]. */
  readonly maxMessageBytes: number;
  /**
   * New INVITEs per second each trunk may send before 503 with Retry-After, unless the trunk
   * sets its own [200: what one server carries with RTP, so a trunk is never throttled below
   * it; bursts of twice that pass].
   */
  readonly invitesPerSecond: number;
  /** How long an inbound `webhook` route may take to answer before 480, ms [5000]. */
  readonly webhookTimeoutMs: number;
  /**
   * Hosts a `sip:` URI may name directly, besides the trunks' hosts [none]. A `sip:` URI
   * whose host is a trunk's goes through that trunk; any other host is refused (403), so an
   * API caller cannot make the gateway signal to an arbitrary host (an open relay).
   */
  readonly allowDirectSip: readonly string[];
  /** Calls up at once beyond which new INVITEs get 503 with Retry-After [2000]. */
  readonly maxCalls: number;
  /** A SIP/TCP connection silent this long is closed, ms [120000]. */
  readonly tcpIdleTimeoutMs: number;
  /** A SIP/TCP message must arrive whole within this long of its first byte (and a new
   * connection must send its first within it), ms [10000]. */
  readonly tcpHeaderTimeoutMs: number;
}

const RTP_ENGINES = ["auto", "xdp", "io_uring", "deno"] as const;

const nonEmpty = z.string({ error: "expected a non-empty string" }).min(1, {
  error: "expected a non-empty string",
});
const integer = (min: number, max: number) => {
  const error = `expected an integer in ${min}..${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const transport = z.enum(["udp", "tcp"], { error: 'expected "udp" or "tcp"' });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "expected an array" });
const section = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.strictObject(shape, { error: "expected an object" });
const hostPort = nonEmpty.superRefine((address, ctx) => {
  const problem = catchTypeError(() => splitHostPort(address, 5060, "x"));
  if (problem) ctx.addIssue({ code: "custom", message: problem.replace(/^Invalid x: /, "") });
});
const cidr = nonEmpty.superRefine((text, ctx) => {
  const problem = catchTypeError(() => parseCidr(text, "x"));
  if (problem) ctx.addIssue({ code: "custom", message: problem.replace(/^Invalid x: /, "") });
});

const trunkSchema = section({
  name: nonEmpty.describe("The trunk's name (unique)."),
  address: hostPort.describe("`host:port` of the trunk's SIP signalling (port 5060 if left out)."),
  transport: transport.default("udp").describe("The transport used to reach the trunk."),
  credentials: section({
    username: nonEmpty.describe("The digest username."),
    password: nonEmpty.describe("The digest password."),
    realm: nonEmpty.optional().describe("Only answer challenges from this realm."),
  }).optional().describe("Digest credentials to answer the trunk's challenges with."),
  allowFrom: list(cidr).default([]).describe(
    "Source addresses (IPv4 `a.b.c.d` or `a.b.c.d/n`, IPv6 exact) allowed to send INVITEs.",
  ),
  outboundNumbers: list(nonEmpty).default([]).describe(
    "Called-number prefixes routed out through this trunk; `*` ends a pattern.",
  ),
  invitesPerSecond: integer(1, 100_000).optional().describe(
    "New INVITEs per second this trunk may send before 503 [the section's invitesPerSecond].",
  ),
});

const webhookUrl = nonEmpty.superRefine((target, ctx) => {
  let url: URL;
  try {
    url = new URL(target);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error; // only "not a URL" is expected
    ctx.addIssue({ code: "custom", message: "not a URL" });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: "expected an http(s) URL" });
  }
});
const actionSchema = z.union([
  z.strictObject({ client: nonEmpty.describe("Ring this client identity.") }),
  z.strictObject({ agent: nonEmpty.describe("Hand the call to this configured agent.") }),
  z.strictObject({ plugin: nonEmpty.describe("Hand the call to this plugin.") }),
  z.strictObject({ webhook: webhookUrl.describe("Ask this http(s) URL what to do.") }),
], { error: "expected exactly one of client, agent, plugin, webhook" });

const routeSchema = section({
  match: nonEmpty.describe("The called number to match: exact, or a prefix ending in `*`."),
  action: actionSchema.describe("What to do with a matching call."),
});

const directSipHost = nonEmpty.superRefine((host, ctx) => {
  const problem = catchTypeError(() => splitHostPort(host, 5060, "x"));
  if (problem) {
    ctx.addIssue({ code: "custom", message: problem.replace(/^Invalid x: /, "") });
  } else if (splitHostPort(host, 5060).host !== host.replace(/^\[|\]$/g, "")) {
    ctx.addIssue({ code: "custom", message: "expected a host without a port" });
  }
}).transform((host) => host.replace(/^\[|\]$/g, "").toLowerCase());

/**
 * The zod schema of the `sip` section (composed into the server's config file schema by
 * `src/server/config_schema.ts`). Its output is the frozen {@linkcode SipConfig}.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { sipConfigSchema } from "./config.ts";
 * const sip = sipConfigSchema.parse({ listen: { port: 5080 } });
 * assertEquals(sip.listen, { host: "0.0.0.0", port: 5080 });
 * assertEquals(sip.publicAddress, "127.0.0.1"); // a wildcard listen host advertises loopback
 * ```
 */
export const sipConfigSchema: z.ZodType<SipConfig, SipConfigInput> = section({
  listen: section({
    host: nonEmpty.default("0.0.0.0").describe("The address to listen on."),
    port: integer(0, 65535).default(5060).describe("The SIP port (UDP and TCP)."),
  }).default({ host: "0.0.0.0", port: 5060 }).describe("Where the gateway listens."),
  transports: list(transport).default(["udp"]).describe("The SIP transports to listen on."),
  publicAddress: nonEmpty.optional().describe(
    "The address put in Via/Contact/SDP [the listen host, or 127.0.0.1 for a wildcard].",
  ),
  rtpPortRange: z.tuple([integer(1024, 65535), integer(1024, 65535)], {
    error: "expected [first, last]",
  }).refine(([first, last]) => first <= last, { error: "first port is above the last" })
    .default([20000, 29999]).describe("The first and last UDP port for RTP."),
  trunks: list(trunkSchema).superRefine((trunks, ctx) => {
    const names = new Set<string>();
    for (const t of trunks) {
      if (names.has(t.name)) {
        ctx.addIssue({ code: "custom", message: `duplicate name "${t.name}"` });
      }
      names.add(t.name);
    }
  }).default([]).describe("SIP trunks: where outbound calls go and who may send INVITEs."),
  inbound: list(routeSchema).default([]).describe("Inbound routes, first match wins."),
  ringTimeoutMs: integer(100, 600_000).default(60_000).describe(
    "How long an outbound call may ring before `no_answer`, ms.",
  ),
  rtpTimeoutMs: integer(100, 3_600_000).default(30_000).describe(
    "An answered call with no RTP for this long ends, ms.",
  ),
  rtpEngine: z.enum(RTP_ENGINES, {
    error: `expected one of ${RTP_ENGINES.map((e) => `"${e}"`).join(", ")}`,
  }).default("auto").describe(
    "The RTP engine: auto (the best that works here, else deno), xdp, io_uring or deno " +
      "(CLUTCH_RTP_ENGINE in the environment beats it).",
  ),
  maxMessageBytes: integer(1024, 65_535).default(8192).describe(
    "Largest SIP message accepted, bytes.",
  ),
  invitesPerSecond: integer(1, 100_000).default(200).describe(
    "New INVITEs per second each trunk may send before 503 with Retry-After.",
  ),
  webhookTimeoutMs: integer(10, 60_000).default(5000).describe(
    "How long an inbound `webhook` route may take to answer before 480, ms.",
  ),
  allowDirectSip: list(directSipHost).default([]).describe(
    "Hosts a `sip:` URI may name directly, besides the trunks' hosts (no port).",
  ),
  maxCalls: integer(1, 1_000_000).default(2000).describe(
    "Calls up at once beyond which new INVITEs get 503 with Retry-After.",
  ),
  tcpIdleTimeoutMs: integer(100, 3_600_000).default(120_000).describe(
    "A SIP/TCP connection silent this long is closed, ms.",
  ),
  tcpHeaderTimeoutMs: integer(100, 600_000).default(10_000).describe(
    "A SIP/TCP message must arrive whole within this long of its first byte, ms.",
  ),
}).transform((sip): SipConfig =>
  deepFreeze({
    ...sip,
    publicAddress: sip.publicAddress ??
      (sip.listen.host === "0.0.0.0" || sip.listen.host === "::" ? "127.0.0.1" : sip.listen.host),
    rtpPortRange: [sip.rtpPortRange[0], sip.rtpPortRange[1]] as const,
    trunks: sip.trunks.map((t) => ({ ...t })),
    inbound: sip.inbound.map((r) => ({ match: r.match, action: r.action as InboundAction })),
  })
);

/** The `sip` section as written in the config file (every key optional). */
export type SipConfigInput = Record<string, unknown>;

/**
 * Validates a raw `sip` section (from JSON). Throws a `TypeError` naming the bad key.
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { parseSipConfig } from "./config.ts";
 * const sip = parseSipConfig({ listen: { port: 5080 }, trunks: [{ name: "t", address: "127.0.0.1:5061", allowFrom: ["127.0.0.1"], outboundNumbers: ["+1"] }] });
 * assertEquals([sip.listen.port, sip.trunks[0].transport], [5080, "udp"]);
 * assertThrows(() => parseSipConfig({ listen: { port: 70000 } }), TypeError, "sip.listen.port");
 * ```
 */
export function parseSipConfig(value: unknown): SipConfig {
  const result = sipConfigSchema.safeParse(value);
  if (result.success) return result.data;
  throw new TypeError(describeError(sipConfigSchema, value, result.error, ["sip"]), {
    cause: result.error,
  });
}

/**
 * True when `pattern` (exact, or a prefix ending in `*`; `*` alone matches all) matches.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { matchNumber } from "./config.ts";
 * assertEquals(matchNumber("+1415*", "+14155550100"), true);
 * assertEquals(matchNumber("+1", "+14155550100"), false); // without `*`, exact
 * assertEquals(matchNumber("*", "anything"), true);
 * ```
 */
export function matchNumber(pattern: string, number: string): boolean {
  if (pattern.endsWith("*")) return number.startsWith(pattern.slice(0, -1));
  return pattern === number;
}

/**
 * The trunk whose `outboundNumbers` has the longest prefix of `number` (`+1` matches every
 * `+1…`; an entry ending in `*` is the same prefix).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseSipConfig, trunkFor } from "./config.ts";
 * const sip = parseSipConfig({
 *   trunks: [
 *     { name: "us", address: "127.0.0.1", outboundNumbers: ["+1"] },
 *     { name: "sf", address: "127.0.0.2", outboundNumbers: ["+1415*"] },
 *   ],
 * });
 * assertEquals(trunkFor(sip.trunks, "+12125550100")?.name, "us");
 * assertEquals(trunkFor(sip.trunks, "+14155550100")?.name, "sf"); // the longer prefix
 * assertEquals(trunkFor(sip.trunks, "+442071234567"), undefined);
 * ```
 */
export function trunkFor(trunks: readonly TrunkConfig[], number: string): TrunkConfig | undefined {
  let best: TrunkConfig | undefined;
  let bestLength = -1;
  for (const trunk of trunks) {
    for (const raw of trunk.outboundNumbers) {
      const prefix = raw.endsWith("*") ? raw.slice(0, -1) : raw;
      if (number.startsWith(prefix) && prefix.length > bestLength) {
        best = trunk;
        bestLength = prefix.length;
      }
    }
  }
  return best;
}

/**
 * The trunk a `sip:` URI's host (and port, when it names one) designates, if any.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseSipConfig, trunkForHost } from "./config.ts";
 * const sip = parseSipConfig({ trunks: [{ name: "t", address: "10.0.0.1:5080" }] });
 * assertEquals(trunkForHost(sip.trunks, "10.0.0.1", 5080)?.name, "t");
 * assertEquals(trunkForHost(sip.trunks, "10.0.0.1")?.name, "t"); // no port named: any
 * assertEquals(trunkForHost(sip.trunks, "10.0.0.1", 5060), undefined);
 * assertEquals(trunkForHost(sip.trunks, "10.0.0.2"), undefined);
 * ```
 */
export function trunkForHost(
  trunks: readonly TrunkConfig[],
  host: string,
  port?: number,
): TrunkConfig | undefined {
  const wanted = host.replace(/^\[|\]$/g, "").toLowerCase();
  return trunks.find((t) => {
    const address = splitHostPort(t.address);
    return address.host.toLowerCase() === wanted && (port === undefined || port === address.port);
  });
}

/**
 * The trunk allowed to send from `address` (an IP literal), if any.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseSipConfig, trunkAllowing } from "./config.ts";
 * const sip = parseSipConfig({ trunks: [{ name: "t", address: "10.0.0.1", allowFrom: ["10.0.0.0/8"] }] });
 * assertEquals(trunkAllowing(sip.trunks, "10.1.2.3")?.name, "t");
 * assertEquals(trunkAllowing(sip.trunks, "192.0.2.1"), undefined);
 * ```
 */
export function trunkAllowing(
  trunks: readonly TrunkConfig[],
  address: string,
): TrunkConfig | undefined {
  return trunks.find((t) => t.allowFrom.some((cidr) => cidrContains(cidr, address)));
}

/**
 * Splits `host:port` (or `[v6]:port`, or a bare host) with a default port.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { splitHostPort } from "./config.ts";
 * assertEquals(splitHostPort("10.0.0.1:5080", 5060), { host: "10.0.0.1", port: 5080 });
 * assertEquals(splitHostPort("carrier.example", 5060), { host: "carrier.example", port: 5060 });
 * assertEquals(splitHostPort("[2001:db8::1]:5061"), { host: "2001:db8::1", port: 5061 });
 * ```
 */
export function splitHostPort(
  address: string,
  defaultPort = 5060,
  where = "address",
): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.\-]+))(?::(\d{1,5}))?$/.exec(address);
  if (!m) throw new TypeError(`Invalid ${where}: expected host[:port], got "${address}"`);
  const port = m[3] === undefined ? defaultPort : Number(m[3]);
  if (port < 1 || port > 65535) throw new TypeError(`Invalid ${where}: port out of range`);
  return { host: m[1] ?? m[2], port };
}

function cidrContains(cidr: string, address: string): boolean {
  const [net, bits] = parseCidr(cidr, "cidr");
  const ip = ipv4ToInt(address);
  if (net === undefined || ip === undefined) return cidr === address;
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return ((ip & mask) >>> 0) === ((net & mask) >>> 0);
}

function parseCidr(text: string, where: string): [number | undefined, number] {
  const [addr, bitsText, extra] = text.split("/");
  if (extra !== undefined) throw new TypeError(`Invalid ${where}: "${text}"`);
  const ip = ipv4ToInt(addr);
  if (ip === undefined) {
    if (!/^[0-9A-Fa-f:.]+$/.test(addr) || bitsText !== undefined) {
      throw new TypeError(`Invalid ${where}: expected an IPv4 address/prefix or an IPv6 address`);
    }
    return [undefined, 128];
  }
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) {
    throw new TypeError(`Invalid ${where}: prefix length out of range`);
  }
  return [ip, bits];
}

function ipv4ToInt(text: string): number | undefined {
  const v4 = text.startsWith("::ffff:") ? text.slice(7) : text;
  const parts = v4.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value >>> 0;
}

/** The TypeError message `fn` throws, if it throws one. */
function catchTypeError(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof TypeError) return error.message;
    throw error;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
