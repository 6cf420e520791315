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

const TOP_KEYS = new Set([
  "listen",
  "transports",
  "publicAddress",
  "rtpPortRange",
  "trunks",
  "inbound",
  "ringTimeoutMs",
  "rtpTimeoutMs",
  "rtpEngine",
  "maxMessageBytes",
  "invitesPerSecond",
  "webhookTimeoutMs",
  "allowDirectSip",
  "tcpIdleTimeoutMs",
  "tcpHeaderTimeoutMs",
  "maxCalls",
]);
const TRUNK_KEYS = new Set([
  "name",
  "address",
  "transport",
  "credentials",
  "allowFrom",
  "outboundNumbers",
  "invitesPerSecond",
]);

/**
 * Validates a raw `sip` section (from JSON). Throws a `TypeError` naming the bad key.
 *
 * @example
 * ```ts
 * import { parseSipConfig } from "./config.ts";
 * const sip = parseSipConfig({ listen: { port: 5080 }, trunks: [{ name: "t", address: "127.0.0.1:5061", allowFrom: ["127.0.0.1"], outboundNumbers: ["+1"] }] });
 * console.log(sip.listen.port, sip.trunks[0].transport); // 5080 udp
 * ```
 */
export function parseSipConfig(value: unknown): SipConfig {
  const obj = object(value, "sip");
  unknownKeys(obj, TOP_KEYS, "sip");
  const listenRaw = obj.listen === undefined ? {} : object(obj.listen, "sip.listen");
  unknownKeys(listenRaw, new Set(["host", "port"]), "sip.listen");
  const host = listenRaw.host === undefined ? "0.0.0.0" : string(listenRaw.host, "sip.listen.host");
  const port = listenRaw.port === undefined
    ? 5060
    : integer(listenRaw.port, 0, 65535, "sip.listen.port");
  const transports = obj.transports === undefined
    ? ["udp" as const]
    : array(obj.transports, "sip.transports").map((t, i) =>
      transportName(t, `sip.transports[${i}]`)
    );
  const publicAddress = obj.publicAddress === undefined
    ? (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host)
    : string(obj.publicAddress, "sip.publicAddress");
  let rtpPortRange: [number, number] = [20000, 29999];
  if (obj.rtpPortRange !== undefined) {
    const r = array(obj.rtpPortRange, "sip.rtpPortRange");
    if (r.length !== 2) throw new TypeError("Invalid sip.rtpPortRange: expected [first, last]");
    rtpPortRange = [
      integer(r[0], 1024, 65535, "sip.rtpPortRange[0]"),
      integer(r[1], 1024, 65535, "sip.rtpPortRange[1]"),
    ];
    if (rtpPortRange[0] > rtpPortRange[1]) {
      throw new TypeError("Invalid sip.rtpPortRange: first port is above the last");
    }
  }
  const trunks = (obj.trunks === undefined ? [] : array(obj.trunks, "sip.trunks")).map((t, i) =>
    parseTrunk(t, `sip.trunks[${i}]`)
  );
  const names = new Set<string>();
  for (const t of trunks) {
    if (names.has(t.name)) throw new TypeError(`Invalid sip.trunks: duplicate name "${t.name}"`);
    names.add(t.name);
  }
  const inbound = (obj.inbound === undefined ? [] : array(obj.inbound, "sip.inbound")).map((r, i) =>
    parseRoute(r, `sip.inbound[${i}]`)
  );
  const opt = (key: string, def: number, min: number, max: number) =>
    obj[key] === undefined ? def : integer(obj[key], min, max, `sip.${key}`);
  return Object.freeze({
    listen: Object.freeze({ host, port }),
    transports: Object.freeze(transports),
    publicAddress,
    rtpPortRange: Object.freeze(rtpPortRange) as readonly [number, number],
    trunks: Object.freeze(trunks),
    inbound: Object.freeze(inbound),
    ringTimeoutMs: opt("ringTimeoutMs", 60_000, 100, 600_000),
    rtpTimeoutMs: opt("rtpTimeoutMs", 30_000, 100, 3_600_000),
    rtpEngine: rtpEngineOf(obj.rtpEngine),
    maxMessageBytes: opt("maxMessageBytes", 8192, 1024, 65_535),
    invitesPerSecond: opt("invitesPerSecond", 200, 1, 100_000),
    webhookTimeoutMs: opt("webhookTimeoutMs", 5000, 10, 60_000),
    allowDirectSip: Object.freeze(
      (obj.allowDirectSip === undefined ? [] : array(obj.allowDirectSip, "sip.allowDirectSip"))
        .map((h, i) => {
          const where = `sip.allowDirectSip[${i}]`;
          const host = string(h, where);
          if (splitHostPort(host, 5060, where).host !== host.replace(/^\[|\]$/g, "")) {
            throw new TypeError(`Invalid ${where}: expected a host without a port`);
          }
          return host.replace(/^\[|\]$/g, "").toLowerCase();
        }),
    ),
    maxCalls: opt("maxCalls", 2000, 1, 1_000_000),
    tcpIdleTimeoutMs: opt("tcpIdleTimeoutMs", 120_000, 100, 3_600_000),
    tcpHeaderTimeoutMs: opt("tcpHeaderTimeoutMs", 10_000, 100, 600_000),
  });
}

function parseTrunk(value: unknown, where: string): TrunkConfig {
  const t = object(value, where);
  unknownKeys(t, TRUNK_KEYS, where);
  const address = string(t.address, `${where}.address`);
  splitHostPort(address, 5060, `${where}.address`);
  let credentials: TrunkCredentials | undefined;
  if (t.credentials !== undefined) {
    const c = object(t.credentials, `${where}.credentials`);
    unknownKeys(c, new Set(["username", "password", "realm"]), `${where}.credentials`);
    credentials = Object.freeze({
      username: string(c.username, `${where}.credentials.username`),
      password: string(c.password, `${where}.credentials.password`),
      ...(c.realm === undefined ? {} : { realm: string(c.realm, `${where}.credentials.realm`) }),
    });
  }
  const allowFrom = (t.allowFrom === undefined ? [] : array(t.allowFrom, `${where}.allowFrom`))
    .map((a, i) => {
      const s = string(a, `${where}.allowFrom[${i}]`);
      parseCidr(s, `${where}.allowFrom[${i}]`);
      return s;
    });
  return Object.freeze({
    name: string(t.name, `${where}.name`),
    address,
    transport: t.transport === undefined ? "udp" : transportName(t.transport, `${where}.transport`),
    ...(credentials ? { credentials } : {}),
    allowFrom: Object.freeze(allowFrom),
    outboundNumbers: Object.freeze(
      (t.outboundNumbers === undefined ? [] : array(t.outboundNumbers, `${where}.outboundNumbers`))
        .map((n, i) => string(n, `${where}.outboundNumbers[${i}]`)),
    ),
    ...(t.invitesPerSecond === undefined
      ? {}
      : { invitesPerSecond: integer(t.invitesPerSecond, 1, 100_000, `${where}.invitesPerSecond`) }),
  });
}

function parseRoute(value: unknown, where: string): InboundRoute {
  const r = object(value, where);
  unknownKeys(r, new Set(["match", "action"]), where);
  const match = string(r.match, `${where}.match`);
  const a = object(r.action, `${where}.action`);
  const keys = Object.keys(a);
  if (keys.length !== 1 || !["client", "agent", "plugin", "webhook"].includes(keys[0])) {
    throw new TypeError(
      `Invalid ${where}.action: expected exactly one of client, agent, plugin, webhook`,
    );
  }
  const target = string(a[keys[0]], `${where}.action.${keys[0]}`);
  if (keys[0] === "webhook") {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new TypeError(`Invalid ${where}.action.webhook: not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Invalid ${where}.action.webhook: expected an http(s) URL`);
    }
  }
  return Object.freeze({ match, action: Object.freeze({ [keys[0]]: target }) as InboundAction });
}

/**
 * True when `pattern` (exact, or a prefix ending in `*`; `*` alone matches all) matches.
 *
 * @example
 * ```ts
 * import { matchNumber } from "./config.ts";
 * console.log(matchNumber("+1415*", "+14155550100"), matchNumber("+1", "+14155550100")); // true false
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
 * import { parseSipConfig, trunkFor } from "./config.ts";
 * const sip = parseSipConfig({ trunks: [{ name: "us", address: "127.0.0.1", outboundNumbers: ["+1"] }] });
 * console.log(trunkFor(sip.trunks, "+14155550100")?.name); // us
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
 * import { parseSipConfig, trunkForHost } from "./config.ts";
 * const sip = parseSipConfig({ trunks: [{ name: "t", address: "10.0.0.1:5080" }] });
 * console.log(trunkForHost(sip.trunks, "10.0.0.1", 5080)?.name, trunkForHost(sip.trunks, "10.0.0.2")); // t undefined
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
 * import { parseSipConfig, trunkAllowing } from "./config.ts";
 * const sip = parseSipConfig({ trunks: [{ name: "t", address: "10.0.0.1", allowFrom: ["10.0.0.0/8"] }] });
 * console.log(trunkAllowing(sip.trunks, "10.1.2.3")?.name, trunkAllowing(sip.trunks, "192.0.2.1")); // t undefined
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
 * import { splitHostPort } from "./config.ts";
 * console.log(splitHostPort("10.0.0.1:5080", 5060)); // { host: "10.0.0.1", port: 5080 }
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

function object(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`Invalid ${where}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function array(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new TypeError(`Invalid ${where}: expected an array`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`Invalid ${where}: expected a non-empty string`);
  }
  return value;
}

function integer(value: unknown, min: number, max: number, where: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`Invalid ${where}: expected an integer in ${min}..${max}`);
  }
  return value;
}

function transportName(value: unknown, where: string): SipTransportName {
  if (value !== "udp" && value !== "tcp") {
    throw new TypeError(`Invalid ${where}: expected "udp" or "tcp"`);
  }
  return value;
}

function unknownKeys(obj: Record<string, unknown>, known: ReadonlySet<string>, where: string) {
  const bad = Object.keys(obj).filter((k) => !known.has(k));
  if (bad.length) {
    throw new TypeError(
      `Invalid ${where}: unknown key "${bad[0]}" (known: ${[...known].join(", ")})`,
    );
  }
}

const RTP_ENGINES = ["auto", "xdp", "io_uring", "deno"] as const;

function rtpEngineOf(value: unknown): SipConfig["rtpEngine"] {
  if (value === undefined) return "auto";
  if (!RTP_ENGINES.includes(value as SipConfig["rtpEngine"])) {
    throw new TypeError(
      `Invalid sip.rtpEngine: expected one of ${RTP_ENGINES.map((e) => `"${e}"`).join(", ")}`,
    );
  }
  return value as SipConfig["rtpEngine"];
}
