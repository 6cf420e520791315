/**
 * The SIP gateway: a back-to-back user agent between SIP trunks and the calls control plane.
 * Inbound INVITEs from trunks become `inbound` calls (routed by called number to a client,
 * an agent, a plugin or a webhook's answer); `originate` to E.164 numbers becomes an INVITE
 * to the matching trunk. Media is a {@linkcode MediaLeg} per call.
 *
 * Each SIP leg's lifecycle:
 *
 * ```text
 *  offering ──▶ early ──▶ confirmed ──▶ terminated
 *     │           │                        ▲
 *     └───────────┴────────────────────────┘   (rejected, canceled, timed out)
 * ```
 *
 * @module
 */
import { Core } from "sip.js";
import type { Call } from "../calls/call.ts";
import type { CallGateway, CallProgress } from "../calls/gateway.ts";
import type { CallService } from "../calls/service.ts";
import { type EndReason, isTerminal } from "../calls/status.ts";
import type { Logger } from "../log/mod.ts";
import { createAdmission } from "./admission.ts";
import {
  type InboundAction,
  matchNumber,
  type SipConfig,
  splitHostPort,
  type TrunkConfig,
  trunkFor,
  trunkForHost,
} from "./config.ts";
import { SipEndpoint, type SipEndpointTables } from "./endpoint.ts";
import { askInboundWebhook } from "./inbound_webhook.ts";
import { answerUpdates, sessionTimerHeaders } from "./session_update.ts";
import { SdpError, SipError } from "./error.ts";
import type { MediaLeg, MediaLegFactory } from "./media.ts";
import {
  answerDirection,
  CODEC_CAPABILITY,
  negotiateAudio,
  type NegotiatedAudio,
  parseSdp,
  type SdpDirection,
  type SipCodec,
  writeSdp,
} from "./sdp.ts";

/** A SIP leg's lifecycle state (see the module diagram). */
export type SipLegState = "offering" | "early" | "confirmed" | "terminated";

const LEG_EDGES: Readonly<Record<SipLegState, readonly SipLegState[]>> = {
  offering: ["early", "confirmed", "terminated"],
  early: ["confirmed", "terminated"],
  confirmed: ["terminated"],
  terminated: [],
};

/** Options for {@linkcode SipGateway.start}. */
export interface SipGatewayOptions {
  readonly config: SipConfig;
  readonly media: MediaLegFactory;
  readonly log: Logger;
  /** Calls up at once before new INVITEs get 503 [2000]. */
  readonly maxCalls?: number;
  /** Retransmission T1 (tests shrink it) [500]. */
  readonly t1?: number;
  /** Codecs we accept, in preference order [PCMU, PCMA, opus]. */
  readonly codecs?: readonly SipCodec[];
}

/**
 * Sizes of the gateway's per-call tables, its endpoint's and its sip.js cores': all zero
 * once every call has ended and its retransmission window (64·T1) has passed.
 */
export interface SipGatewayTables extends SipEndpointTables {
  /** SIP legs up (by sid). */
  readonly legs: number;
  /** SIP legs by Call-ID. */
  readonly callIds: number;
  /** Admitted INVITEs not yet handed to the gateway (their trunk, by Call-ID). */
  readonly admitted: number;
}

interface Leg {
  readonly sid: string;
  readonly callId: string;
  readonly direction: "inbound" | "outbound";
  state: SipLegState;
  readonly progress: CallProgress;
  media?: MediaLeg;
  audio?: NegotiatedAudio;
  session?: Core.Session;
  invite?: Core.IncomingInviteRequest;
  outgoing?: Core.OutgoingInviteRequest;
  sdpVersion: number;
  readonly sdpSession: string;
  localDirection: SdpDirection;
  ringTimer?: ReturnType<typeof setTimeout>;
  endedBy?: EndReason;
  /** Progress reports, in order (an ACK's `answered` lands before a quick BYE's `ended`). */
  reports: Promise<void>;
  readonly trunk?: TrunkConfig;
  /** Which of the call's tracks this leg's media publishes and plays (see `MediaLegInit`). */
  readonly tracks?: { readonly publish: string; readonly play: string };
  /** The far end's identity (caller id of a B2BUA-side transfer leg). */
  remoteIdentity?: string;
  /** A REFER or a B2BUA-side transfer is under way. */
  transferring?: boolean;
  /** The transfer target's leg, once a B2BUA-side transfer dialed it. */
  transferLeg?: Leg;
}

/** What an inbound call gets: a route's action, or a webhook's answer. */
type ResolvedAction =
  | { readonly client: string }
  | { readonly agent: string }
  | { readonly plugin: string }
  | { readonly answer: true }
  | { readonly reject: number; readonly reason?: string; readonly endReason: EndReason };

const PAYLOAD_TYPES: Record<
  SipCodec,
  { payloadType: number; clockRate: number; channels: number }
> = {
  PCMU: { payloadType: 0, clockRate: 8000, channels: 1 },
  PCMA: { payloadType: 8, clockRate: 8000, channels: 1 },
  opus: { payloadType: 111, clockRate: 48000, channels: 2 },
};

/**
 * The gateway. Create it, give it to the calls service as its `gateway`, then
 * {@linkcode attach} the service.
 *
 * @example
 * ```ts ignore
 * import { parseSipConfig, signallingOnlyMedia, SipGateway } from "./mod.ts";
 * const gateway = await SipGateway.start({ config: parseSipConfig({ listen: { port: 5060 } }), media: signallingOnlyMedia, log });
 * const calls = new CallService({ store, origin, log, gateway });
 * gateway.attach(calls);
 * ```
 */
export class SipGateway implements CallGateway, AsyncDisposable {
  readonly #options: SipGatewayOptions;
  readonly #log: Logger;
  readonly #legs = new Map<string, Leg>();
  readonly #byCallId = new Map<string, Leg>();
  readonly #trunkOf = new Map<string, TrunkConfig>();
  #endpoint!: SipEndpoint;
  #calls: CallService | undefined;
  #closed = false;

  private constructor(options: SipGatewayOptions) {
    this.#options = options;
    this.#log = options.log;
  }

  /** Binds the SIP transports. */
  static async start(options: SipGatewayOptions): Promise<SipGateway> {
    const gateway = new SipGateway(options);
    const { config } = options;
    gateway.#endpoint = await SipEndpoint.listen({
      host: config.listen.host,
      port: config.listen.port,
      transports: config.transports,
      publicAddress: config.publicAddress,
      maxMessageBytes: config.maxMessageBytes,
      t1: options.t1,
      delegate: { onInvite: (request) => gateway.#onInvite(request) },
      admit: createAdmission({
        trunks: config.trunks,
        invitesPerSecond: config.invitesPerSecond,
        activeCalls: () => gateway.#legs.size,
        maxCalls: options.maxCalls ?? 2000,
        onAdmitted: (callId, trunk) => gateway.#trunkOf.set(callId, trunk),
      }),
      log: (level, message, fields) => options.log[level](message, fields),
    });
    return gateway;
  }

  /** The SIP port. */
  get port(): number {
    return this.#endpoint.port;
  }

  /** Legs up now (a leak check). */
  get activeLegs(): number {
    return this.#legs.size;
  }

  /** Sizes of every per-call table (a leak check; see {@linkcode SipGatewayTables}). */
  tables(): SipGatewayTables {
    return {
      legs: this.#legs.size,
      callIds: this.#byCallId.size,
      admitted: this.#trunkOf.size,
      ...this.#endpoint.tables(),
    };
  }

  /** The endpoint's message counters. */
  get stats(): SipEndpoint["stats"] {
    return this.#endpoint.stats;
  }

  /** The service inbound calls are admitted to (set once, after it is created). */
  attach(calls: CallService): void {
    this.#calls = calls;
  }

  /** Dials `call.to` through its trunk (see {@linkcode CallGateway}). */
  dial(call: Call, progress: CallProgress): void {
    this.#dial(call, progress).catch(async (error) => {
      this.#log.warn("SIP dial failed", { sid: call.sid, error });
      await progress.ended(error instanceof SipError ? "rejected" : "gateway_error", {
        sipStatus: error instanceof SipError ? error.status : undefined,
      });
    });
  }

  /** Why `to` cannot be dialed (no trunk routes it, or a `sip:` host not allowed), if so. */
  refuses(to: string): string | undefined {
    try {
      this.#route(to);
      return undefined;
    } catch (error) {
      if (error instanceof SipError) return error.message;
      throw error;
    }
  }

  /** Plays DTMF on a live leg. */
  async sendDigits(sid: string, digits: string): Promise<void> {
    const leg = this.#legs.get(sid);
    if (!leg?.media || leg.state !== "confirmed") {
      throw new SipError(481, "Call/Transaction Does Not Exist", `No live SIP leg for ${sid}`);
    }
    await leg.media.sendDigits(digits);
  }

  /**
   * Transfers the far end to `to` by SIP REFER. When the peer's NOTIFY reports success
   * (sipfrag 2xx) the leg is hung up and the call ends `transferred`. When the peer refuses
   * REFER (or its NOTIFY reports a failure), the gateway transfers on its side: it dials `to`
   * as a new leg of the SAME call (same sid) whose media plays the call's uplink to the target
   * and publishes the target's audio on the call's downlink, so the far end and the target
   * hear each other through the call's tracks; the call ends when either hangs up.
   *
   * @example
   * ```ts ignore
   * await gateway.transfer(call.sid, "+14155550123");
   * ```
   */
  transfer(sid: string, to: string): Promise<void> {
    const leg = this.#legs.get(sid);
    if (!leg?.session || leg.state !== "confirmed") {
      return Promise.reject(new SipError(481, "Call/Transaction Does Not Exist"));
    }
    if (leg.transferring) {
      return Promise.reject(new SipError(491, "Request Pending", "A transfer is under way"));
    }
    leg.transferring = true;
    const target = this.#targetUri(to);
    const done = Promise.withResolvers<void>();
    let fellBack = false;
    const fallback = (why: string) => {
      if (fellBack || leg.state === "terminated") return;
      fellBack = true;
      this.#log.info("REFER refused; transferring on the gateway side", { sid, why });
      this.#b2buaTransfer(leg, to).then(done.resolve, (error) => {
        leg.transferring = false;
        done.reject(error);
      });
    };
    leg.session.delegate = {
      ...leg.session.delegate,
      onNotify: (request) => {
        request.accept();
        const frag = String(request.message.body ?? "");
        const status = Number(/^SIP\/2\.0 (\d{3})/.exec(frag)?.[1] ?? 0);
        this.#log.info("REFER progress", { sid, status });
        if (status >= 200 && status < 300) {
          this.#log.info("REFER transfer completed", { sid, status });
          // The far end now talks to the target directly: our leg is done.
          if (leg.state === "confirmed") {
            leg.session?.bye();
            void this.#finish(leg, "transferred");
          }
          done.resolve();
        } else if (status >= 300) fallback(`NOTIFY ${status}`);
      },
    };
    leg.session.refer({
      onAccept: () => {/* 202: wait for NOTIFY */},
      onReject: (response) => fallback(`REFER ${response.message.statusCode}`),
    }, {
      extraHeaders: [
        `Refer-To: <${target.toString()}>`,
        `Referred-By: <sip:clutchcall@${this.#endpoint.publicAddress}>`,
      ],
    });
    return done.promise;
  }

  /** Ends every leg (BYE/CANCEL), then closes the transports. A second close is a no-op. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const leg of [...this.#legs.values()]) await this.#terminate(leg, "hangup", true);
    await new Promise((r) => setTimeout(r, 50));
    await this.#endpoint.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- inbound -----------------------------------------------------------------------------

  async #onInvite(request: Core.IncomingInviteRequest): Promise<void> {
    const message = request.message;
    const trunk = this.#trunkOf.get(message.callId);
    this.#trunkOf.delete(message.callId);
    try {
      request.trying();
      if (!this.#calls) throw new SipError(503, "Service Unavailable");
      let audio: NegotiatedAudio;
      try {
        audio = negotiateAudio(parseSdp(String(message.body ?? "")), this.#options.codecs);
      } catch (error) {
        if (error instanceof SdpError) {
          throw new SipError(488, "Not Acceptable Here", error.message);
        }
        throw error;
      }
      const called = message.ruri?.user ?? message.to.uri.user ?? "";
      const route = this.#options.config.inbound.find((r) => matchNumber(r.match, called));
      if (!route) throw new SipError(404, "Not Found", `No inbound route for "${called}"`);
      const from = callerOf(message);
      const { call, progress } = await this.#calls.admitInbound({
        from,
        to: called || "unknown",
        capabilities: [CODEC_CAPABILITY[audio.codec]],
      });
      const leg = this.#newLeg(call.sid, message.callId, "inbound", progress, trunk);
      leg.invite = request;
      leg.audio = audio;
      leg.remoteIdentity = from;
      request.delegate = {
        onCancel: () => this.#terminate(leg, "canceled", false),
      };
      progress.signal.addEventListener("abort", () => this.#terminate(leg, "hangup", true), {
        once: true,
      });
      leg.media = await this.#newMedia(leg);
      if (ended(leg)) return void leg.media.close();
      const action = await this.#resolveAction(route.action, call);
      if (ended(leg)) return;
      if ("reject" in action) {
        request.reject({ statusCode: action.reject, reasonPhrase: action.reason });
        return this.#finish(leg, action.endReason, action.reject);
      }
      if ("client" in action) {
        request.progress({ statusCode: 180 });
        this.#transition(leg, "early");
        const stop = this.#calls.events.onCall(call.sid, (event) => {
          if (event.type === "status" && event.call.status === "in_progress") {
            stop();
            this.#answerInbound(leg);
          }
        });
        progress.signal.addEventListener("abort", stop, { once: true });
        await this.#calls.ringClient(call.sid, action.client);
        return;
      }
      this.#answerInbound(leg);
      if ("agent" in action) {
        this.#afterConfirmed(leg, () => this.#calls?.transfer(call.sid, { agent: action.agent }));
      }
    } catch (error) {
      const sip = error instanceof SipError ? error : new SipError(500, "Server Internal Error");
      if (!(error instanceof SipError)) this.#log.error("Inbound INVITE failed", { error });
      try {
        request.reject({ statusCode: sip.status, reasonPhrase: sip.reason });
      } catch { /* already answered */ }
      const leg = this.#byCallId.get(message.callId);
      if (leg) await this.#finish(leg, "rejected", sip.status);
      else this.#endpoint.release(message.callId);
    }
  }

  /** The route's action; a webhook's answer (see `inbound_webhook.ts`) mapped onto it. */
  async #resolveAction(action: InboundAction, call: Call): Promise<ResolvedAction> {
    if (!("webhook" in action)) return action;
    try {
      const answer = await askInboundWebhook(action.webhook, call, {
        timeoutMs: this.#options.config.webhookTimeoutMs,
      });
      switch (answer.action) {
        case "client":
          return { client: answer.identity };
        case "agent":
          return { agent: answer.agent };
        case "answer":
          return { answer: true };
        case "reject":
          return { reject: answer.status, endReason: "rejected" };
      }
    } catch (error) {
      const sip = error instanceof SipError ? error : new SipError(500, "Server Internal Error");
      this.#log.warn("Inbound webhook failed", { sid: call.sid, error });
      return { reject: sip.status, reason: sip.reason, endReason: "gateway_error" };
    }
  }

  #answerInbound(leg: Leg): void {
    if (leg.state === "terminated" || !leg.invite || !leg.audio || !leg.media) return;
    leg.localDirection = answerDirection(leg.audio.remoteDirection);
    const response = leg.invite.accept({
      statusCode: 200,
      body: this.#sdpBody(leg, [leg.audio.codec], leg.audio),
    });
    leg.session = response.session;
    this.#transition(leg, "confirmed");
    this.#watchSession(leg, response.session, () =>
      this.#report(leg, async () => {
        await leg.media?.start({ audio: leg.audio!, direction: leg.localDirection });
        await leg.progress.answered();
      }));
  }

  // --- outbound ----------------------------------------------------------------------------

  async #dial(
    call: Call,
    progress: CallProgress,
    transfer?: {
      codecs?: readonly SipCodec[];
      tracks: { readonly publish: string; readonly play: string };
    },
  ): Promise<Leg> {
    const { ruri, trunk } = this.#route(call.to);
    const transport = trunk?.transport ?? "udp";
    const core = this.#endpoint.core(trunk?.name ?? "direct", transport, trunk?.credentials);
    const from = new Core.URI(
      "sip",
      call.from.replace(/^sip:|@.*$/g, ""),
      this.#endpoint.publicAddress,
    );
    const toUri = ruri.clone();
    const leg = this.#newLeg(call.sid, "", "outbound", progress, trunk, transfer?.tracks);
    leg.remoteIdentity = call.to;
    leg.media = await this.#newMedia(leg);
    if (progress.signal.aborted) {
      await this.#finish(leg, "canceled");
      return leg;
    }
    const codecs = transfer?.codecs ?? this.#options.codecs ?? ["PCMU", "PCMA"];
    const message = core.makeOutgoingRequestMessage("INVITE", ruri, from, toUri, {}, [
      `Contact: ${core.configuration.contact.toString()}`,
      "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO, UPDATE",
    ], this.#sdpBody(leg, codecs));
    (leg as { callId: string }).callId = message.callId;
    this.#byCallId.set(message.callId, leg);
    this.#endpoint.own(message.callId, core);
    leg.ringTimer = setTimeout(() => {
      leg.endedBy = "no_answer";
      leg.outgoing?.cancel();
      this.#finish(leg, "no_answer");
    }, this.#options.config.ringTimeoutMs);
    progress.signal.addEventListener("abort", () => this.#terminate(leg, "hangup", true), {
      once: true,
    });
    leg.outgoing = core.invite(message, {
      onProgress: (response) => {
        const code = response.message.statusCode ?? 0;
        if ((code === 180 || code === 183) && leg.state === "offering") {
          this.#transition(leg, "early");
          this.#report(leg, () => progress.ringing());
        }
      },
      onAccept: (response) => {
        response.ack();
        if (leg.state === "terminated") {
          // Answered after we gave up (cancel crossed the 200): hang the answered leg up.
          response.session.bye();
          return;
        }
        clearTimeout(leg.ringTimer);
        leg.session = response.session;
        try {
          leg.audio = negotiateAudio(parseSdp(String(response.message.body ?? "")), codecs);
        } catch {
          response.session.bye();
          return void this.#finish(leg, "rejected", 488);
        }
        leg.localDirection = answerDirection(leg.audio.remoteDirection);
        this.#transition(leg, "confirmed");
        this.#watchSession(leg, response.session);
        this.#report(leg, async () => {
          try {
            await leg.media?.start({ audio: leg.audio!, direction: leg.localDirection });
          } catch (error) {
            // E.g. a transfer target's tracks are taken: hang up rather than report answered.
            this.#log.warn("Cannot start media", { sid: leg.sid, error });
            leg.session?.bye();
            void this.#finish(leg, "gateway_error");
            return;
          }
          await progress.answered();
        });
      },
      onReject: (response) => {
        const code = response.message.statusCode ?? 500;
        const reason: EndReason = leg.endedBy ??
          (code === 486 || code === 600
            ? "busy"
            : code === 603
            ? "declined"
            : code === 408 || code === 480
            ? "no_answer"
            : code === 487
            ? "canceled"
            : "rejected");
        this.#finish(leg, reason, code);
      },
      onRedirect: (response) => this.#finish(leg, "rejected", response.message.statusCode),
    });
    return leg;
  }

  #route(to: string): { ruri: Core.URI; trunk?: TrunkConfig } {
    if (to.startsWith("sip:")) {
      const uri = Core.Grammar.URIParse(to);
      if (!uri) throw new SipError(400, "Bad Request", `Cannot dial "${to}": not a SIP URI`);
      // Never an open relay (as Kamailio's default config refuses to relay for strangers):
      // a host is dialed only as a configured trunk or one listed in sip.allowDirectSip.
      const { trunks, allowDirectSip } = this.#options.config;
      const trunk = trunkForHost(trunks, uri.host, uri.port);
      if (trunk) return { ruri: uri, trunk };
      if (allowDirectSip.includes(uri.host.replace(/^\[|\]$/g, "").toLowerCase())) {
        return { ruri: uri };
      }
      throw new SipError(
        403,
        "Forbidden",
        `Cannot dial "${to}": its host is not a configured trunk nor in sip.allowDirectSip`,
      );
    }
    const trunk = trunkFor(this.#options.config.trunks, to);
    if (!trunk) throw new SipError(404, "Not Found", `No trunk routes "${to}"`);
    const { host, port } = splitHostPort(trunk.address);
    return {
      ruri: new Core.URI(
        "sip",
        to,
        host,
        port,
        trunk.transport === "tcp" ? { transport: "tcp" } : {},
      ),
      trunk,
    };
  }

  #targetUri(to: string): Core.URI {
    return this.#route(to).ruri;
  }

  /**
   * The far end refused REFER: it stays connected to us, and the gateway dials `to` as a new
   * SIP leg of the same call. The new leg offers only the far end's codec, presents the far
   * end's identity as caller id, and its media is re-pointed at the call's tracks the other
   * way round (plays `uplink`, publishes `downlink`). Resolves when the target answers;
   * rejects with the target's SIP status when it does not (the original call goes on).
   */
  async #b2buaTransfer(caller: Leg, to: string): Promise<void> {
    const answered = Promise.withResolvers<void>();
    const abort = new AbortController();
    let up = false;
    const progress: CallProgress = {
      ringing: () => Promise.resolve(),
      answered: () => {
        up = true;
        answered.resolve();
        this.#log.info("B2BUA transfer answered", { sid: caller.sid, to });
        return Promise.resolve();
      },
      ended: (reason, detail) => {
        caller.transferLeg = undefined;
        if (!up) {
          answered.reject(
            new SipError(detail?.sipStatus ?? 480, `Transfer target did not answer: ${reason}`),
          );
        } else if (caller.state === "confirmed") {
          // The target hung up: the call is over for the far end too.
          caller.session?.bye();
          void this.#finish(caller, "caller_hangup");
        }
        return Promise.resolve();
      },
      digits: (digits) => caller.progress.digits?.(digits),
      signal: abort.signal,
    };
    const codec = caller.audio?.codec;
    const leg = await this.#dial(
      { sid: caller.sid, from: caller.remoteIdentity ?? "clutchcall", to } as Call,
      progress,
      {
        codecs: codec ? [codec] : undefined,
        tracks: { publish: "downlink", play: "uplink" },
      },
    );
    if (caller.state === "terminated") abort.abort();
    else caller.transferLeg = leg;
    await answered.promise;
  }

  // --- in-dialog ---------------------------------------------------------------------------

  #watchSession(leg: Leg, session: Core.Session, onAck?: () => Promise<void>): void {
    session.delegate = {
      onAck: onAck
        ? () => {
          const start = onAck;
          onAck = undefined;
          return start?.().catch((error) =>
            this.#log.error("Cannot start media", { sid: leg.sid, error })
          );
        }
        : undefined,
      onAckTimeout: () => {
        session.bye();
        this.#finish(leg, "gateway_error");
      },
      onBye: (request) => {
        request.accept();
        this.#finish(leg, "caller_hangup");
      },
      onInvite: (request) => this.#onReinvite(leg, request),
      onInfo: (request) => {
        request.accept();
        const body = String(request.message.body ?? "");
        const signal = /Signal\s*=\s*([0-9*#A-D])/i.exec(body)?.[1];
        if (signal) leg.progress.digits?.(signal);
      },
      onRefer: (request) => request.reject({ statusCode: 603 }),
    };
    // RFC 3311 UPDATE: a session refresh (no SDP: 200 without a body) or an offer, applied
    // like a re-INVITE's.
    answerUpdates(session, (request) => {
      if (leg.state === "terminated") return void request.reject({ statusCode: 481 });
      if (request.message.body) return this.#onReinvite(leg, request);
      request.accept({ statusCode: 200, extraHeaders: sessionTimerHeaders(request.message) });
    });
  }

  /** A re-INVITE's or an UPDATE's offer (or a re-INVITE without one). */
  #onReinvite(leg: Leg, request: Core.IncomingRequest): void {
    const text = String(request.message.body ?? "");
    const extraHeaders = sessionTimerHeaders(request.message);
    if (!text || !leg.audio) {
      // Offerless re-INVITE (session refresh without SDP): answer with our current offer.
      request.accept({
        statusCode: 200,
        body: this.#sdpBody(leg, [leg.audio?.codec ?? "PCMU"], leg.audio),
        extraHeaders,
      });
      return;
    }
    let audio: NegotiatedAudio;
    try {
      const sdp = parseSdp(text);
      audio = negotiateAudio(sdp, [leg.audio.codec]);
      // RFC 2543 hold: c=0.0.0.0 means the peer will not receive.
      if (audio.remote.address === "0.0.0.0" && audio.remoteDirection === "sendrecv") {
        audio = { ...audio, remoteDirection: "sendonly" };
      }
    } catch (error) {
      request.reject({ statusCode: 488, reasonPhrase: "Not Acceptable Here" });
      this.#log.debug("re-INVITE refused", { sid: leg.sid, error });
      return;
    }
    const changed = audio.remoteDirection !== leg.audio.remoteDirection ||
      audio.remote.address !== leg.audio.remote.address ||
      audio.remote.port !== leg.audio.remote.port;
    leg.audio = audio;
    leg.localDirection = answerDirection(audio.remoteDirection);
    if (changed) leg.sdpVersion++;
    request.accept({
      statusCode: 200,
      body: this.#sdpBody(leg, [audio.codec], audio),
      extraHeaders,
    });
    leg.media?.update({ audio, direction: leg.localDirection }).catch((error) =>
      this.#log.warn("Cannot apply re-INVITE to media", { sid: leg.sid, error })
    );
  }

  // --- helpers -----------------------------------------------------------------------------

  #newLeg(
    sid: string,
    callId: string,
    direction: "inbound" | "outbound",
    progress: CallProgress,
    trunk: TrunkConfig | undefined,
    tracks?: { readonly publish: string; readonly play: string },
  ): Leg {
    const leg: Leg = {
      sid,
      callId,
      direction,
      state: "offering",
      progress,
      sdpVersion: 1,
      sdpSession: String(Math.floor(Math.random() * 1e9)),
      localDirection: "sendrecv",
      reports: Promise.resolve(),
      ...(trunk ? { trunk } : {}),
      ...(tracks ? { tracks } : {}),
    };
    // A transfer target's leg belongs to the caller's leg (same sid), not to the sid table.
    if (!tracks) this.#legs.set(sid, leg);
    if (callId) this.#byCallId.set(callId, leg);
    return leg;
  }

  #newMedia(leg: Leg): Promise<MediaLeg> {
    return this.#options.media({
      sid: leg.sid,
      ...(leg.direction === "inbound" && leg.audio ? { offer: leg.audio } : {}),
      ...(leg.tracks ? { tracks: leg.tracks } : {}),
      onDigits: (digits) => leg.progress.digits?.(digits),
      onSpeech: (state, atMicros) =>
        leg.progress.speech?.(state, new Date(atMicros / 1000).toISOString()),
      onInactive: () => {
        if (leg.state !== "confirmed") return;
        this.#log.info("RTP inactivity: ending the call", { sid: leg.sid });
        leg.session?.bye();
        this.#finish(leg, "media_timeout");
      },
    });
  }

  #sdpBody(leg: Leg, codecs: readonly SipCodec[], audio?: NegotiatedAudio): Core.Body {
    const content = writeSdp({
      sessionId: leg.sdpSession,
      version: leg.sdpVersion,
      address: this.#endpoint.publicAddress,
      port: leg.media?.localPort ?? 9,
      codecs: codecs.map((codec) => ({
        codec,
        ...PAYLOAD_TYPES[codec],
        ...(audio && audio.codec === codec
          ? { payloadType: audio.payloadType, clockRate: audio.clockRate, channels: audio.channels }
          : {}),
      })),
      dtmfPayloadType: audio ? audio.dtmfPayloadType : 101,
      direction: audio ? answerDirection(audio.remoteDirection) : "sendrecv",
      ptime: audio?.ptime,
    });
    return { contentDisposition: "session", contentType: "application/sdp", content };
  }

  #afterConfirmed(leg: Leg, run: () => unknown): void {
    let stop: (() => void) | undefined = undefined;
    stop = this.#calls?.events.onCall(leg.sid, (event) => {
      if (event.type !== "status") return;
      if (event.call.status === "in_progress") {
        stop?.();
        Promise.resolve().then(run).catch((error) =>
          this.#log.warn("Inbound route action failed", { sid: leg.sid, error })
        );
      } else if (isTerminal(event.call.status)) stop?.();
    });
    // A call that ends before it is answered must not leave its listener behind.
    leg.progress.signal.addEventListener("abort", () => stop?.(), { once: true });
  }

  #transition(leg: Leg, to: SipLegState): void {
    if (!LEG_EDGES[leg.state].includes(to)) {
      throw new Error(`Cannot move SIP leg ${leg.sid} from "${leg.state}" to "${to}"`);
    }
    leg.state = to;
  }

  /** Our side ends the leg: CANCEL before the answer, BYE after, reject an unanswered INVITE. */
  async #terminate(leg: Leg, reason: EndReason, ours: boolean): Promise<void> {
    if (leg.state === "terminated") return;
    try {
      if (leg.state === "confirmed") leg.session?.bye();
      else if (leg.outgoing) {
        leg.endedBy ??= reason === "hangup" ? "canceled" : reason;
        leg.outgoing.cancel();
      } else if (leg.invite && ours) {
        leg.invite.reject({ statusCode: leg.endedBy === "no_answer" ? 480 : 487 });
      }
    } catch (error) {
      this.#log.debug("Cannot end SIP leg cleanly", { sid: leg.sid, error });
    }
    await this.#finish(leg, reason);
  }

  async #finish(leg: Leg, reason: EndReason, sipStatus?: number): Promise<void> {
    if (leg.state === "terminated") return;
    leg.state = "terminated";
    clearTimeout(leg.ringTimer);
    if (this.#legs.get(leg.sid) === leg) this.#legs.delete(leg.sid);
    if (leg.transferLeg) void this.#terminate(leg.transferLeg, "hangup", true);
    this.#byCallId.delete(leg.callId);
    // Keep the Call-ID routed a little longer: retransmitted BYE/200/ACK still find the core.
    this.#endpoint.release(leg.callId, this.#endpoint.lingerMs);
    // sip.js keeps its transactions for their timers (up to 64·T1): let none of them hold
    // this leg, its media or its progress handle.
    if (leg.invite) leg.invite.delegate = undefined;
    if (leg.session) leg.session.delegate = undefined;
    const media = leg.media;
    leg.media = undefined;
    leg.invite = undefined;
    leg.session = undefined;
    leg.outgoing = undefined;
    // Report the end before closing the media: closing it ends the call's uplink track, which
    // the Calls service would otherwise read first as the caller hanging up.
    await this.#report(
      leg,
      () => leg.progress.ended(reason, sipStatus === undefined ? undefined : { sipStatus }),
    );
    await media?.close().catch(() => {});
  }

  /** Runs a progress report after the leg's earlier ones. */
  #report(leg: Leg, run: () => Promise<void>): Promise<void> {
    leg.reports = leg.reports.then(run).catch((error) =>
      this.#log.warn("Cannot report SIP call progress", { sid: leg.sid, error })
    );
    return leg.reports;
  }
}

function ended(leg: Leg): boolean {
  return leg.state === "terminated";
}

function callerOf(message: Core.IncomingRequestMessage): string {
  const user = message.from.uri.user ?? "";
  if (/^\+?[1-9]\d{1,14}$/.test(user)) return user.startsWith("+") ? user : `+${user}`;
  return `sip:${user ? user + "@" : ""}${message.from.uri.host}`;
}
