/**
 * The SIP gateway: a B2BUA between SIP trunks and the calls control plane, on sip.js's core
 * (parser, transactions, dialogs) with UDP and TCP transports written for Deno, its own UDP
 * retransmission, strict SDP offer/answer (PCMU, PCMA, Opus, telephone-event) and trunk
 * admission (allow-lists, rate limits).
 *
 * @example
 * ```ts ignore
 * import { parseSipConfig, SipGateway } from "./mod.ts";
 * const gateway = await SipGateway.start({ config: parseSipConfig(raw), media, log, calls });
 * ```
 *
 * @module
 */
export * from "./admission.ts";
export * from "./calls_port.ts";
export * from "./config.ts";
export * from "./endpoint.ts";
export * from "./error.ts";
export * from "./framing.ts";
export * from "./gateway.ts";
export * from "./leg.ts";
export * from "./methods.ts";
export * from "./media.ts";
export * from "./retransmit.ts";
export * from "./rtp_media.ts";
export * from "./sdp.ts";
export * from "./tcp_transport.ts";
export * from "./transport.ts";
export * from "./udp_transport.ts";
