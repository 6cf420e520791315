/**
 * The SIP gateway: a back-to-back user agent between SIP trunks and the calls control plane.
 * This file only puts the pieces together and is the {@linkcode GatewayPort} the calls
 * service drives:
 *
 * - `inbound.ts`: INVITEs from trunks become `inbound` calls, routed by called number.
 * - `outbound.ts`: `originate` to E.164 numbers and `sip:` URIs becomes an INVITE.
 * - `transfer.ts`: REFER, and the gateway-side (B2BUA) transfer when the peer refuses it.
 * - `dialog.ts`: in-dialog requests (ACK, BYE, re-INVITE, UPDATE, INFO).
 * - `leg.ts`: each leg's state machine; `leg_runtime.ts`: what the pieces share.
 *
 * The gateway is started with everything it needs, the calls control plane included, so it
 * never answers an INVITE it cannot handle yet.
 *
 * @module
 */
import type { GatewayCall, GatewayPort, InboundCalls, LegProgress } from "./calls_port.ts";
import type { Logger } from "../log/mod.ts";
import { createAdmission } from "./admission.ts";
import type { SipConfig, TrunkConfig } from "./config.ts";
import { SipEndpoint, type SipEndpointTables } from "./endpoint.ts";
import { SipError } from "./error.ts";
import { answerInbound, handleInvite } from "./inbound.ts";
import { LegRuntime } from "./leg_runtime.ts";
import type { MediaLegFactory } from "./media.ts";
import { dial, routeOutbound } from "./outbound.ts";
import type { SipCodec } from "./sdp.ts";
import { transfer } from "./transfer.ts";

export type { InboundCalls } from "./calls_port.ts";

/** Options for {@linkcode SipGateway.start}. */
export interface SipGatewayOptions {
  readonly config: SipConfig;
  readonly media: MediaLegFactory;
  readonly log: Logger;
  /** The calls control plane inbound calls are admitted to. */
  readonly calls: InboundCalls;
  /** Calls up at once before new INVITEs get 503 [the config's `maxCalls`]. */
  readonly maxCalls?: number;
  /** Retransmission T1 (tests shrink it) [500]. */
  readonly t1?: number;
  /** The admission limiters' clock in ms (tests freeze it so a rate is exact) [`performance.now`]. */
  readonly now?: () => number;
  /** Codecs we accept, in preference order [g711_ulaw, g711_alaw, opus]. */
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

/**
 * The {@linkcode GatewayPort} to give the calls service, forwarding to the gateway once it
 * runs. The service and the gateway need each other; the composition root makes the service
 * first (it dials nothing before its HTTP API serves), then starts the gateway with it, so
 * the gateway handles INVITEs from its first one. A dial before that ends `gateway_error`.
 *
 * @example
 * ```ts ignore
 * let sip: SipGateway | undefined;
 * const calls = new CallService({ store, origin, log, gateway: forwardingGateway(() => sip) });
 * sip = await SipGateway.start({ config, media, log, calls });
 * ```
 */
export function forwardingGateway(target: () => GatewayPort | undefined): GatewayPort {
  const missing = () => new SipError(503, "Service Unavailable", "The SIP gateway is not running");
  return {
    refuses: (to) => target()?.refuses?.(to),
    dial(call, progress) {
      const gateway = target();
      if (gateway) return gateway.dial(call, progress);
      void progress.ended("gateway_error", { sipStatus: 503 });
    },
    sendDigits: (sid, digits) => target()?.sendDigits?.(sid, digits) ?? Promise.reject(missing()),
    transfer: (sid, to) => target()?.transfer?.(sid, to) ?? Promise.reject(missing()),
    answer: (sid) => target()?.answer?.(sid) ?? Promise.reject(missing()),
  };
}

/** How long {@linkcode SipGateway.close} waits for legs to end before closing anyway, ms. */
const CLOSE_GRACE_MS = 2000;

/**
 * The gateway.
 *
 * @example
 * ```ts ignore
 * import { parseSipConfig, signallingOnlyMedia, SipGateway } from "./mod.ts";
 * const gateway = await SipGateway.start({ config: parseSipConfig({ listen: { port: 5060 } }), media: signallingOnlyMedia, log, calls });
 * ```
 */
export class SipGateway implements GatewayPort, AsyncDisposable {
  readonly #rt: LegRuntime;
  readonly #trunkOf: Map<string, TrunkConfig>;
  #closed = false;

  private constructor(rt: LegRuntime, trunkOf: Map<string, TrunkConfig>) {
    this.#rt = rt;
    this.#trunkOf = trunkOf;
  }

  /** Binds the SIP transports; INVITEs are handled from the first one on. */
  static async start(options: SipGatewayOptions): Promise<SipGateway> {
    const { config } = options;
    const trunkOf = new Map<string, TrunkConfig>();
    // The endpoint's callbacks find the runtime here once it exists.
    const late: { rt?: LegRuntime } = {};
    const endpoint = await SipEndpoint.listen({
      host: config.listen.host,
      port: config.listen.port,
      transports: config.transports,
      publicAddress: config.publicAddress,
      maxMessageBytes: config.maxMessageBytes,
      t1: options.t1,
      tcpIdleTimeoutMs: config.tcpIdleTimeoutMs,
      tcpHeaderTimeoutMs: config.tcpHeaderTimeoutMs,
      delegate: {
        onInvite: (request) => {
          const trunk = trunkOf.get(request.message.callId);
          trunkOf.delete(request.message.callId);
          // Set right after listen() resolves; an INVITE before that gets 503.
          if (late.rt) void handleInvite(late.rt, request, trunk);
          else request.reject({ statusCode: 503 });
        },
      },
      admit: createAdmission({
        trunks: config.trunks,
        invitesPerSecond: config.invitesPerSecond,
        activeCalls: () => late.rt?.legs.size ?? 0,
        maxCalls: options.maxCalls ?? config.maxCalls,
        onAdmitted: (callId, trunk) => trunkOf.set(callId, trunk),
        now: options.now,
      }),
      log: (level, message, fields) => options.log[level](message, fields),
    });
    const rt = late.rt = new LegRuntime({
      config,
      endpoint,
      media: options.media,
      calls: options.calls,
      log: options.log,
      codecs: options.codecs,
    });
    return new SipGateway(rt, trunkOf);
  }

  /** The SIP port. */
  get port(): number {
    return this.#rt.endpoint.port;
  }

  /** Legs up now (a leak check). */
  get activeLegs(): number {
    return this.#rt.legs.size;
  }

  /** Sizes of every per-call table (a leak check; see {@linkcode SipGatewayTables}). */
  tables(): SipGatewayTables {
    return {
      legs: this.#rt.legs.size,
      callIds: this.#rt.legs.callIds,
      admitted: this.#trunkOf.size,
      ...this.#rt.endpoint.tables(),
    };
  }

  /** The endpoint's message counters. */
  get stats(): SipEndpoint["stats"] {
    return this.#rt.endpoint.stats;
  }

  /** Dials `call.to` through its trunk (see {@linkcode GatewayPort}). */
  dial(call: GatewayCall, progress: LegProgress): void {
    dial(this.#rt, call, progress, { ringTimeoutMs: call.ringTimeoutMs }).catch(async (error) => {
      this.#rt.log.warn("SIP dial failed", { sid: call.sid, error });
      await progress.ended(error instanceof SipError ? "rejected" : "gateway_error", {
        sipStatus: error instanceof SipError ? error.status : undefined,
      });
    });
  }

  /** Why `to` cannot be dialed (no trunk routes it, or a `sip:` host not allowed), if so. */
  refuses(to: string): string | undefined {
    try {
      routeOutbound(this.#rt.config, to);
      return undefined;
    } catch (error) {
      if (error instanceof SipError) return error.message;
      throw error;
    }
  }

  /**
   * The client rung for an inbound call answered it: the INVITE is answered (200), and
   * `answered` is reported once the caller's ACK starts media. Rejects with
   * {@linkcode SipError} 481 when the call has no ringing inbound leg.
   */
  answer(sid: string): Promise<void> {
    const leg = this.#rt.legs.bySid(sid);
    if (!leg || leg.pending?.direction !== "inbound") {
      return Promise.reject(
        new SipError(481, "Call/Transaction Does Not Exist", `No ringing SIP leg for ${sid}`),
      );
    }
    try {
      answerInbound(this.#rt, leg);
    } catch (error) {
      this.#rt.log.warn("Cannot answer inbound SIP leg", { sid, error });
      void this.#rt.finish(leg, "gateway_error", 500);
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /** Plays DTMF on a live leg. */
  async sendDigits(sid: string, digits: string): Promise<void> {
    const leg = this.#rt.legs.bySid(sid);
    if (!leg || leg.state.name !== "confirmed") {
      throw new SipError(481, "Call/Transaction Does Not Exist", `No live SIP leg for ${sid}`);
    }
    await leg.media.sendDigits(digits);
  }

  /**
   * Transfers the far end to `to`: by SIP REFER, else on the gateway's side (see
   * `transfer.ts`). Settles when the transfer is done, fails, or the leg ends.
   *
   * @example
   * ```ts ignore
   * await gateway.transfer(call.sid, "+14155550123");
   * ```
   */
  transfer(sid: string, to: string): Promise<void> {
    const leg = this.#rt.legs.bySid(sid);
    if (!leg) return Promise.reject(new SipError(481, "Call/Transaction Does Not Exist"));
    const rt = this.#rt;
    return transfer(
      {
        log: rt.log,
        publicAddress: rt.endpoint.publicAddress,
        targetUri: (target) => routeOutbound(rt.config, target).ruri,
        dial: (call, progress, options) => dial(rt, call, progress, options),
        terminate: (target, reason) => rt.terminate(target, reason, true),
      },
      leg,
      to,
    );
  }

  /**
   * Ends every leg (BYE/CANCEL), waiting up to `graceMs` [2000] for their ends to be reported
   * (whatever else is pending on them), then closes the transports. A second close is a no-op.
   */
  async close(graceMs: number = CLOSE_GRACE_MS): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ending = Promise.all(
      this.#rt.legs.all().map((leg) => this.#rt.terminate(leg, "hangup", true)),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    if (await Promise.race([ending, grace]) === "timeout") {
      this.#rt.log.warn("SIP legs still ending at shutdown; closing the transports anyway", {
        legs: this.#rt.legs.callIds,
      });
    }
    clearTimeout(timer);
    // Let the BYEs and CANCELs just sent leave before the sockets close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await this.#rt.endpoint.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
