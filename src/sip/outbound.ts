/**
 * Outbound calls: `originate` to an E.164 number goes out as an INVITE to the trunk whose
 * `outboundNumbers` match it (a `sip:` URI is dialed directly). Provisional responses report
 * `ringing`, the 2xx starts media and reports `answered`, a final error ends the call with the
 * reason its status means, and the ring timeout CANCELs it as `no_answer`.
 *
 * @module
 */
import { Core } from "sip.js";
import type { GatewayCall, LegProgress, SipEndReason } from "./calls_port.ts";
import {
  type SipConfig,
  splitHostPort,
  type TrunkConfig,
  trunkFor,
  trunkForHost,
} from "./config.ts";
import { watchSession } from "./dialog.ts";
import { SipError } from "./error.ts";
import { newSdpSession, SipLeg } from "./leg.ts";
import type { LegRuntime } from "./leg_runtime.ts";
import { ALLOW_HEADER } from "./methods.ts";
import {
  answerDirection,
  negotiateAudio,
  type NegotiatedAudio,
  parseSdp,
  type SipCodec,
} from "./sdp.ts";

/** How a dialed leg differs from a call's own leg (a B2BUA-side transfer's target). */
export interface DialOptions {
  /** Codecs to offer [the gateway's]. */
  readonly codecs?: readonly SipCodec[];
  /** Which of the call's tracks the media publishes and plays. */
  readonly tracks?: { readonly publish: string; readonly play: string };
  /** How long it may ring before `no_answer`, ms [the config's `ringTimeoutMs`]. */
  readonly ringTimeoutMs?: number;
}

/**
 * Where `to` is dialed: an E.164 number through its trunk; a `sip:` URI through the trunk
 * whose host (and port, when given) it names, or directly when its host is in
 * `allowDirectSip`. Throws {@linkcode SipError} 400 for a bad URI, 404 when no trunk routes
 * the number, 403 for any other `sip:` host (never an open relay, as Kamailio's default
 * config refuses to relay for strangers).
 *
 * @example
 * ```ts
 * import { assertEquals, assertThrows } from "@std/assert";
 * import { parseSipConfig } from "./config.ts";
 * import { SipError } from "./error.ts";
 * import { routeOutbound } from "./outbound.ts";
 * const config = parseSipConfig({
 *   trunks: [{ name: "us", address: "198.51.100.10:5060", outboundNumbers: ["+1"] }],
 *   allowDirectSip: ["pbx.example"],
 * });
 * const { ruri, trunk } = routeOutbound(config, "+14155550123");
 * assertEquals([ruri.toString(), trunk?.name], ["sip:+14155550123@198.51.100.10:5060", "us"]);
 * assertEquals(routeOutbound(config, "sip:alice@pbx.example").trunk, undefined); // direct
 * assertThrows(() => routeOutbound(config, "+442071234567"), SipError, "No trunk routes");
 * assertThrows(() => routeOutbound(config, "sip:x@relay.example"), SipError); // 403
 * ```
 */
export function routeOutbound(
  config: Pick<SipConfig, "trunks" | "allowDirectSip">,
  to: string,
): { ruri: Core.URI; trunk?: TrunkConfig } {
  const { trunks, allowDirectSip } = config;
  if (to.startsWith("sip:")) {
    const uri = Core.Grammar.URIParse(to);
    if (!uri) throw new SipError(400, "Bad Request", `Cannot dial "${to}": not a SIP URI`);
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
  const trunk = trunkFor(trunks, to);
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

/**
 * The end reason a final error response to our INVITE means: 486/600 busy, 603 declined,
 * 408/480 no answer, 487 canceled, anything else rejected.
 */
export function endReasonOf(status: number): SipEndReason {
  if (status === 486 || status === 600) return "busy";
  if (status === 603) return "declined";
  if (status === 408 || status === 480) return "no_answer";
  if (status === 487) return "canceled";
  return "rejected";
}

/**
 * Dials `call.to` and drives the new leg until it ends; resolves with the leg once the INVITE
 * is sent, or undefined when the call ended (reported `canceled`) while its media port was
 * bound. Throws {@linkcode SipError} when `to` cannot be routed.
 */
export async function dial(
  rt: LegRuntime,
  call: Pick<GatewayCall, "sid" | "from" | "to">,
  progress: LegProgress,
  options: DialOptions = {},
): Promise<SipLeg | undefined> {
  const { ruri, trunk } = routeOutbound(rt.config, call.to);
  const core = rt.endpoint.core(
    trunk?.name ?? "direct",
    trunk?.transport ?? "udp",
    trunk?.credentials,
  );
  const from = new Core.URI("sip", call.from.replace(/^sip:|@.*$/g, ""), rt.endpoint.publicAddress);
  // The leg is made once the INVITE is out; its media's and INVITE's callbacks find it here.
  const made: { leg?: SipLeg } = {};
  const media = await rt.newMedia({
    sid: call.sid,
    progress,
    tracks: options.tracks,
    leg: () => made.leg,
  });
  if (progress.signal.aborted) {
    await media.close();
    await progress.ended("canceled");
    return undefined;
  }
  const codecs = options.codecs ?? rt.codecs ?? ["g711_ulaw", "g711_alaw"];
  const sdp = { sdpSession: newSdpSession(), sdpVersion: 1 };
  const contact = core.configuration.contact.toString();
  const message = core.makeOutgoingRequestMessage("INVITE", ruri, from, ruri.clone(), {}, [
    `Contact: ${contact}`,
    ALLOW_HEADER,
  ], rt.sdpBody(sdp, media.localPort, codecs));
  rt.endpoint.own(message.callId, core);
  const outgoing = core.invite(message, {
    onProgress: (response) => {
      const leg = made.leg;
      const code = response.message.statusCode ?? 0;
      if (!leg || leg.state.name !== "offering" || (code !== 180 && code !== 183)) return;
      leg.transition({ name: "early", pending: leg.state.pending });
      void rt.report(leg, () => progress.ringing());
    },
    onAccept: (response) => {
      response.ack();
      const leg = made.leg;
      if (!leg || leg.isTerminated) {
        // Answered after we gave up (our CANCEL crossed the 200): hang the answered leg up.
        response.session.bye();
        return;
      }
      onAnswered(rt, leg, response, codecs);
    },
    onReject: (response) => {
      const leg = made.leg;
      const code = response.message.statusCode ?? 500;
      if (leg) void rt.finish(leg, endReasonOf(code), code);
    },
    onRedirect: (response) => {
      if (made.leg) void rt.finish(made.leg, "rejected", response.message.statusCode);
    },
  });
  const ringTimeoutMs = options.ringTimeoutMs ?? rt.config.ringTimeoutMs;
  const dialed: SipLeg = new SipLeg({
    sid: call.sid,
    callId: message.callId,
    progress,
    media,
    pending: {
      direction: "outbound",
      outgoing,
      ringTimer: setTimeout(() => void rt.terminate(dialed, "no_answer", true), ringTimeoutMs),
    },
    remoteIdentity: call.to,
    contact,
    trunk,
    tracks: options.tracks,
    sdpSession: sdp.sdpSession,
  });
  made.leg = dialed;
  rt.legs.add(dialed);
  progress.signal.addEventListener("abort", () => void rt.terminate(dialed, "hangup", true), {
    once: true,
    signal: dialed.ended,
  });
  return dialed;
}

/** The far end answered: negotiate its answer, start media, report `answered`. */
function onAnswered(
  rt: LegRuntime,
  leg: SipLeg,
  response: Core.AckableIncomingResponseWithSession,
  codecs: readonly SipCodec[],
): void {
  let audio: NegotiatedAudio;
  try {
    audio = negotiateAudio(parseSdp(String(response.message.body ?? "")), codecs);
  } catch (error) {
    rt.log.info("SIP answer has no acceptable SDP: hanging up", { sid: leg.sid, error });
    response.session.bye();
    void rt.finish(leg, "rejected", 488);
    return;
  }
  const localDirection = answerDirection(audio.remoteDirection);
  leg.transition({ name: "confirmed", session: response.session, audio, localDirection });
  watchSession(rt, leg, response.session);
  void rt.report(leg, async () => {
    try {
      await leg.media.start({ audio, direction: localDirection });
    } catch (error) {
      // E.g. a transfer target's tracks are taken: hang up rather than report answered.
      rt.log.warn("Cannot start media", { sid: leg.sid, error });
      void rt.terminate(leg, "gateway_error", true);
      return;
    }
    await leg.progress.answered();
  });
}
