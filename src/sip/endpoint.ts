/**
 * The SIP endpoint: sockets in, sip.js core out. It parses and bounds every message, routes
 * responses back by the top Via's branch (sip.js's `Transport.send` gets only text),
 * retransmits over UDP (sip.js's timers A, E and G are FIXMEs), keeps one sip.js
 * `UserAgentCore` per (purpose, transport) so that each trunk has its own digest credentials,
 * and sends each dialog's messages to the core that owns its Call-ID.
 *
 * @module
 */
import { Core } from "sip.js";
import type { SipTransportName, TrunkCredentials } from "./config.ts";
import { useHoistedGrammar } from "./grammar.ts";
import { Retransmitter } from "./retransmit.ts";
import { UasTable } from "./uas_table.ts";
import type { SipPeer, SipSocket } from "./transport.ts";
import { listenSipUdp } from "./udp_transport.ts";
import { listenSipTcp } from "./tcp_transport.ts";
import { metrics } from "../metrics/mod.ts";

/** What the endpoint asks about each new (out-of-dialog) request before sip.js sees it. */
export type Admission =
  | { readonly ok: true }
  | {
    readonly ok: false;
    readonly status: number;
    readonly reason: string;
    readonly headers?: string[];
  }
  | { readonly ok: false; readonly drop: true };

/** Options for {@linkcode SipEndpoint.listen}. */
export interface SipEndpointOptions {
  readonly host: string;
  readonly port: number;
  readonly transports: readonly SipTransportName[];
  /** Address for Via, Contact and (by the gateway) SDP. */
  readonly publicAddress: string;
  readonly maxMessageBytes: number;
  /** Handles new INVITE, REFER and NOTIFY outside any dialog. */
  readonly delegate: Core.UserAgentCoreDelegate;
  /** Decides on every out-of-dialog request (trunk allow-lists, rate limits). */
  readonly admit: (request: Core.IncomingRequestMessage, from: SipPeer) => Admission;
  /** Retransmission timers (tests shrink them). */
  readonly t1?: number;
  /** SIP/TCP idle and header timeouts, ms (see `listenSipTcp`). */
  readonly tcpIdleTimeoutMs?: number;
  readonly tcpHeaderTimeoutMs?: number;
  readonly log?: (
    level: "debug" | "warn",
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

/**
 * Sizes of the endpoint's per-call tables (and of its sip.js cores'): all zero once every
 * call has ended and its retransmission window has passed. A leak check.
 */
export interface SipEndpointTables {
  /** Call-IDs routed to a core. */
  readonly owners: number;
  /** Request sources kept to route responses (by Via branch). */
  readonly sources: number;
  /** Messages being retransmitted. */
  readonly retransmitting: number;
  /** Dialogs in the sip.js cores. */
  readonly dialogs: number;
  /** Client and server transactions (user agent clients/servers) in the sip.js cores. */
  readonly transactions: number;
  /** Call-IDs waiting out their retransmission window before they are released. */
  readonly lingering: number;
}

/** Counters for tests and metrics. */
export interface SipEndpointStats {
  /** Datagrams and stream messages received. */
  received: number;
  /** Oversized messages, and responses to nothing we sent. */
  dropped: number;
  /** Messages that are not SIP, or not complete SIP. */
  malformed: number;
  /** Out-of-dialog requests refused by admission (answered or silently dropped). */
  rejected: number;
  /** Of those, the ones dropped without an answer (a stranger's flood). */
  silenced: number;
}

/** Where a request came from, and (non-INVITE) the final response it got. */
interface Source {
  readonly peer: SipPeer;
  readonly at: number;
  finalAt?: number;
  /** A non-INVITE request's final response and its method, re-sent on a retransmission. */
  final?: { readonly method: string; readonly text: string };
}

const decoder = new TextDecoder("utf-8", { fatal: false });
/** Methods whose bodies sip.js reads as session descriptions (for a response: its CSeq's). */
const OFFER_METHODS = new Set(["INVITE", "ACK", "UPDATE", "PRACK"]);
const FIRST_LINE = /^(?:[A-Z]{3,16} \S{1,1024} SIP\/2\.0|SIP\/2\.0 [1-6]\d\d [^\r\n]{0,256})\r\n/;

/**
 * Sockets plus sip.js cores.
 *
 * @example
 * ```ts ignore
 * import { SipEndpoint } from "./endpoint.ts";
 * await using endpoint = await SipEndpoint.listen({ host: "127.0.0.1", port: 5060, transports: ["udp"], publicAddress: "127.0.0.1", maxMessageBytes: 8192, delegate: {}, admit: () => ({ ok: true }) });
 * ```
 */
export class SipEndpoint implements AsyncDisposable {
  /** Message counters. */
  readonly stats: SipEndpointStats = {
    received: 0,
    dropped: 0,
    malformed: 0,
    rejected: 0,
    silenced: 0,
  };
  readonly #options: SipEndpointOptions;
  readonly #sockets = new Map<SipTransportName, SipSocket>();
  readonly #retransmit: Retransmitter;
  readonly #loggerFactory = new Core.LoggerFactory();
  readonly #parserLogger: Core.Logger;
  readonly #cores = new Map<string, Core.UserAgentCore>();
  readonly #owners = new Map<string, Core.UserAgentCore>();
  /** Where each request (by Via branch) came from, to send its responses back. */
  readonly #sources = new Map<string, Source>();
  /** Ended calls' Call-IDs → when to stop routing them (late retransmissions still land). */
  readonly #lingering = new Map<string, number>();
  readonly #matcher = { user: undefined as string | undefined };
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;
  /** True while sip.js replies statelessly (set around `replyStateless`). */
  #stateless = false;

  private constructor(options: SipEndpointOptions) {
    // sip.js re-decodes its whole grammar for every header it parses: ~10 ms per call.
    useHoistedGrammar();
    this.#options = options;
    this.#retransmit = new Retransmitter({ t1: options.t1 });
    this.#loggerFactory.builtinEnabled = false;
    this.#loggerFactory.level = Core.Levels.error;
    this.#parserLogger = this.#loggerFactory.getLogger("sip.parser");
    this.#sweep = setInterval(() => this.#sweepTables(), Math.min(5000, 8 * (options.t1 ?? 500)));
    Deno.unrefTimer(this.#sweep as unknown as number);
  }

  /** Binds the configured transports (UDP and TCP share the port number when it is fixed). */
  static async listen(options: SipEndpointOptions): Promise<SipEndpoint> {
    const endpoint = new SipEndpoint(options);
    // Tells the UDP transport whether the datagram was malformed (its source's budget).
    const receive = (bytes: Uint8Array, from: SipPeer) => {
      const malformed = endpoint.stats.malformed;
      endpoint.#receive(bytes, from);
      return endpoint.stats.malformed === malformed;
    };
    const onDrop = (reason: string, from: SipPeer) => {
      endpoint.stats.dropped++;
      options.log?.("debug", "SIP message or connection dropped", { reason, from });
    };
    let port = options.port;
    try {
      for (const transport of options.transports) {
        const socket = transport === "udp"
          ? await listenSipUdp({
            host: options.host,
            port,
            maxBytes: options.maxMessageBytes,
            receive,
            onDrop,
          })
          : listenSipTcp({
            host: options.host,
            port,
            maxBytes: options.maxMessageBytes,
            receive,
            onDrop,
            idleTimeoutMs: options.tcpIdleTimeoutMs,
            headerTimeoutMs: options.tcpHeaderTimeoutMs,
          });
        endpoint.#sockets.set(transport, socket);
        port = socket.port;
      }
    } catch (error) {
      await endpoint.close();
      throw error;
    }
    return endpoint;
  }

  /** The bound port. */
  get port(): number {
    return this.#sockets.values().next().value!.port;
  }

  /** The address put in Via, Contact and SDP. */
  get publicAddress(): string {
    return this.#options.publicAddress;
  }

  /** Dialogs (Call-IDs) with an owning core: a leak check for tests. */
  get dialogCount(): number {
    return this.#owners.size;
  }

  /** Messages now being retransmitted. */
  get retransmitting(): number {
    return this.#retransmit.size;
  }

  /** Sizes of every per-call table (see {@linkcode SipEndpointTables}). */
  tables(): SipEndpointTables {
    let dialogs = 0;
    let transactions = 0;
    for (const core of this.#cores.values()) {
      dialogs += core.dialogs.size;
      transactions += core.userAgentClients.size + core.userAgentServers.size;
    }
    return {
      owners: this.#owners.size,
      sources: this.#sources.size,
      retransmitting: this.#retransmit.size,
      dialogs,
      transactions,
      lingering: this.#lingering.size,
    };
  }

  /**
   * The core for `purpose` ("inbound", or a trunk name) on `transport`, created on first
   * use with the trunk's digest credentials.
   */
  core(
    purpose: string,
    transport: SipTransportName,
    credentials?: TrunkCredentials,
  ): Core.UserAgentCore {
    const key = `${purpose}|${transport}`;
    let core = this.#cores.get(key);
    if (core) return core;
    const socket = this.#sockets.get(transport) ?? this.#sockets.values().next().value!;
    const host = this.#options.publicAddress;
    const port = socket.port;
    const contactUri = new Core.URI(
      "sip",
      "clutchcall",
      host,
      port,
      transport === "tcp" ? { transport: "tcp" } : {},
    );
    const factory = this.#loggerFactory;
    const transportImpl: Core.Transport = {
      protocol: transport.toUpperCase(),
      send: (text: string) => this.#send(text, transport),
    };
    const configuration: Core.UserAgentCoreConfiguration = {
      aor: new Core.URI("sip", "clutchcall", host, port),
      contact: {
        pubGruu: undefined,
        // sip.js accepts a request only when the Request-URI's user matches ours; the
        // gateway serves every number, so this "URI" always matches the request at hand.
        tempGruu: this.#matcher as unknown as Core.URI,
        uri: contactUri,
        toString: () => `<${contactUri.toString()}>`,
      },
      displayName: "",
      loggerFactory: factory,
      hackViaTcp: false,
      routeSet: [],
      sipjsId: crypto.randomUUID().slice(0, 8),
      supportedOptionTags: [],
      supportedOptionTagsResponse: [],
      userAgentHeaderFieldValue: "ClutchCall Voice",
      viaForceRport: true,
      viaHost: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
      authenticationFactory: () =>
        credentials
          ? new Core.DigestAuthentication(
            factory,
            undefined,
            credentials.username,
            credentials.password,
          )
          : undefined,
      transportAccessor: () => transportImpl,
    };
    core = new Core.UserAgentCore(
      configuration,
      purpose === "inbound" ? this.#options.delegate : {},
    );
    // Indexed by Call-ID: sip.js scans every live server transaction per new request.
    core.userAgentServers = new UasTable();
    this.#cores.set(key, core);
    return core;
  }

  /** Our Contact header value for the dialog with `callId` (its core's, else the inbound one). */
  contactFor(callId: string, transport: SipTransportName = "udp"): string {
    const core = this.#owners.get(callId) ?? this.core("inbound", transport);
    return core.configuration.contact.toString();
  }

  /** Makes `core` the owner of the dialog(s) with `callId` (outbound calls). */
  own(callId: string, core: Core.UserAgentCore): void {
    this.#owners.set(callId, core);
  }

  /**
   * Forgets a finished call's Call-ID: at once, or after `lingerMs` (so that retransmitted
   * BYE/200/ACK still reach the core). Lingering is one table swept by one interval, not a
   * timer per call.
   */
  release(callId: string, lingerMs = 0): void {
    if (lingerMs <= 0) {
      this.#owners.delete(callId);
      this.#lingering.delete(callId);
    } else this.#lingering.set(callId, Date.now() + lingerMs);
  }

  /** How long an ended call's Call-ID stays routed: RFC 3261's 64·T1. */
  get lingerMs(): number {
    return 64 * (this.#options.t1 ?? 500);
  }

  /** Closes the sockets and stops retransmitting. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#retransmit[Symbol.dispose]();
    for (const core of this.#cores.values()) {
      try {
        core.dispose();
      } catch (error) {
        // sip.js may throw disposing half-finished transactions; the sockets close anyway.
        this.#options.log?.("debug", "sip.js core did not dispose cleanly", { error });
      }
    }
    for (const socket of this.#sockets.values()) await socket.close();
    this.#sockets.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #receive(bytes: Uint8Array, from: SipPeer): void {
    if (this.#closed) return;
    this.stats.received++;
    let text: string;
    let message: Core.IncomingRequestMessage | Core.IncomingResponseMessage | undefined;
    try {
      text = decoder.decode(bytes);
      if (!FIRST_LINE.test(text.slice(0, 1300))) {
        this.stats.malformed++;
        return;
      }
      message = Core.Parser.parseMessage(text, this.#parserLogger);
    } catch (error) {
      // sip.js's parser throws on some hostile input: counted as malformed just below.
      this.#options.log?.("debug", "SIP message does not parse", { error: String(error) });
      message = undefined;
    }
    if (
      !message || !message.callId || !message.from || !message.to || !message.cseq ||
      !message.via || !message.viaBranch
    ) {
      this.stats.malformed++;
      return;
    }
    if (message.body && !message.hasHeader("Content-Type") && OFFER_METHODS.has(message.method)) {
      // RFC 3261 §20.15: a non-empty body MUST come with a Content-Type. sip.js reads the
      // bodies of these methods as offers/answers and throws on such a body half-way through
      // making a dialog, leaving its 2xx timer running on a half-made object: refuse the
      // request (400) before sip.js sees it; an ACK or a response gets no answer: dropped.
      if (message instanceof Core.IncomingRequestMessage && message.method !== "ACK") {
        this.#replyStateless(message, from, 400, "Missing Content-Type");
      } else this.stats.malformed++;
      return;
    }
    if (message instanceof Core.IncomingResponseMessage) {
      metrics.sipResponses.inc({ code: String(message.statusCode ?? 0), direction: "in" });
    } else {
      metrics.sipRequests.inc({ method: message.method, direction: "in" });
    }
    try {
      if (message instanceof Core.IncomingResponseMessage) this.#receiveResponse(message);
      else this.#receiveRequest(message as Core.IncomingRequestMessage, from);
    } catch (error) {
      // sip.js throws on some protocol violations (e.g. an unexpected message in a state):
      // one bad message must not take the gateway down.
      this.stats.malformed++;
      this.#options.log?.("debug", "SIP message handling failed", { error: String(error) });
    }
  }

  #receiveResponse(message: Core.IncomingResponseMessage): void {
    const code = message.statusCode ?? 0;
    if (message.method === "INVITE" || code >= 200) this.#retransmit.stop(message.viaBranch);
    const core = this.#owners.get(message.callId);
    if (!core) {
      this.stats.dropped++;
      return;
    }
    core.receiveIncomingResponseFromTransport(message);
  }

  #receiveRequest(message: Core.IncomingRequestMessage, from: SipPeer): void {
    if (!message.ruri || message.ruri.scheme !== "sip" && message.ruri.scheme !== "sips") {
      this.stats.malformed++;
      return;
    }
    const known = this.#sources.get(message.viaBranch);
    // An ACK gets no response: recording its source would keep an entry no final response
    // ever ages out (a 2xx's ACK has a branch of its own), or reset the INVITE's.
    if (!known && message.method !== "ACK") {
      this.#sources.set(message.viaBranch, { peer: from, at: Date.now() });
    }
    if (message.method === "ACK") this.#retransmit.stop(message.viaBranch);
    if (known?.final && known.final.method === message.method && from.transport === "udp") {
      // RFC 3261 timer J: sip.js ends a non-INVITE server transaction at once (its timer J
      // is 0), so a retransmitted BYE would meet a disposed dialog and get 481. Answer it
      // with the final response it already got.
      const socket = this.#sockets.get("udp");
      if (socket) void socket.send(known.final.text, known.peer);
      return;
    }
    let core = this.#owners.get(message.callId);
    if (!core) {
      if (message.method === "ACK" || message.method === "CANCEL") {
        // A CANCEL or ACK for nothing we know: sip.js answers CANCEL 481 statelessly.
        if (message.method === "ACK") return;
      } else if (!known) {
        const admission = this.#options.admit(message, from);
        if (!admission.ok) {
          this.stats.rejected++;
          if ("drop" in admission) {
            this.stats.silenced++;
            this.#sources.delete(message.viaBranch);
            return;
          }
          this.#replyStateless(
            message,
            from,
            admission.status,
            admission.reason,
            admission.headers,
          );
          return;
        }
      }
      core = this.core("inbound", from.transport);
      if (message.method === "INVITE") this.#owners.set(message.callId, core);
    }
    this.#matcher.user = message.ruri.user;
    const servers = core.userAgentServers as UasTable<Core.UserAgentServer>;
    servers.receiving(message.callId, () => core.receiveIncomingRequestFromTransport(message));
  }

  /**
   * Answers `message` without a transaction: no timer G (re-sending every 403/503 of a flood
   * would amplify it and hold a timer per rejected INVITE for 64·T1).
   */
  #replyStateless(
    message: Core.IncomingRequestMessage,
    from: SipPeer,
    statusCode: number,
    reasonPhrase: string,
    extraHeaders?: string[],
  ): void {
    if (!this.#sources.has(message.viaBranch)) {
      this.#sources.set(message.viaBranch, { peer: from, at: Date.now() });
    }
    this.#stateless = true;
    try {
      this.core("inbound", from.transport).replyStateless(message, {
        statusCode,
        reasonPhrase,
        extraHeaders,
      });
    } finally {
      this.#stateless = false;
    }
  }

  async #send(text: string, transport: SipTransportName): Promise<void> {
    if (this.#closed) return;
    const socket = this.#sockets.get(transport) ?? this.#sockets.values().next().value!;
    const branch = /^(?:Via|v)[ \t]*:[^\r\n]*?;branch=([^;,\s]+)/im.exec(text)?.[1];
    if (text.startsWith("SIP/2.0 ")) {
      const status = Number(text.slice(8, 11));
      const source = branch ? this.#sources.get(branch) : undefined;
      const peer = source?.peer ?? viaPeer(text, transport);
      if (!peer) return;
      const method = /^(?:CSeq)[ \t]*:[ \t]*\d+[ \t]+([A-Z]+)/im.exec(text)?.[1];
      if (status >= 200 && source) {
        source.finalAt ??= Date.now();
        if (method && method !== "INVITE") source.final ??= { method, text };
      }
      if (
        peer.transport === "udp" && status >= 300 && method === "INVITE" && branch &&
        !this.#stateless
      ) {
        this.#retransmit.response(branch, () => void socket.send(text, peer));
      }
      await socket.send(text, peer);
      metrics.sipResponses.inc({ code: String(status), direction: "out" });
      return;
    }
    const peer = requestPeer(text, transport);
    if (!peer) {
      this.#options.log?.("warn", "Cannot route SIP request: no usable Request-URI");
      return;
    }
    const target = this.#sockets.get(peer.transport) ?? socket;
    await target.send(text, peer);
    const method = text.slice(0, text.indexOf(" "));
    metrics.sipRequests.inc({ method, direction: "out" });
    if (peer.transport === "udp" && method !== "ACK" && branch) {
      this.#retransmit.request(branch, method === "INVITE", () => void target.send(text, peer));
    }
  }

  #sweepTables(): void {
    const now = Date.now();
    const horizon = now - this.lingerMs - 1000;
    for (const [branch, source] of this.#sources) {
      // Answered: kept for retransmissions of the request; never answered (a stray, a
      // request sip.js dropped): forgotten after 5 minutes.
      const stale = source.finalAt !== undefined
        ? source.finalAt < horizon
        : source.at < now - 300_000;
      if (stale) this.#sources.delete(branch);
    }
    for (const [callId, at] of this.#lingering) {
      if (at > now) continue;
      this.#lingering.delete(callId);
      this.#owners.delete(callId);
    }
  }
}

/** The peer in a response's top Via (`received`/`rport` first, then sent-by). */
function viaPeer(text: string, fallback: SipTransportName): SipPeer | undefined {
  const via = /^(?:Via|v)[ \t]*:[ \t]*SIP\/2\.0\/([A-Za-z]+)[ \t]+([^;\s,]+)([^\r\n,]*)/im.exec(
    text,
  );
  if (!via) return undefined;
  const params = via[3];
  const sentBy = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(via[2]);
  if (!sentBy) return undefined;
  const received = /;received=([^;\s]+)/i.exec(params)?.[1];
  const rport = /;rport=(\d+)/i.exec(params)?.[1];
  const transport = via[1].toLowerCase() === "tcp" ? "tcp" : fallback;
  return {
    transport,
    host: received ?? sentBy[1].replace(/^\[|\]$/g, ""),
    port: Number(rport ?? sentBy[2] ?? 5060),
  };
}

/** Where a request goes: its top Route (loose routing), else its Request-URI. */
function requestPeer(text: string, fallback: SipTransportName): SipPeer | undefined {
  const route = /^Route[ \t]*:[ \t]*<([^>]+)>/im.exec(text)?.[1];
  const uriText = route ?? /^[A-Z]+ (\S+) SIP\/2\.0/.exec(text)?.[1];
  if (!uriText) return undefined;
  const uri = Core.Grammar.URIParse(uriText);
  if (!uri) return undefined;
  const param = uri.getParam("transport");
  const transport = typeof param === "string" && param.toLowerCase() === "tcp" ? "tcp" : fallback;
  return { transport, host: uri.host.replace(/^\[|\]$/g, ""), port: uri.port ?? 5060 };
}
