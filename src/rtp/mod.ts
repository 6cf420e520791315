/**
 * RTP for SIP call legs, with no WebRTC: the RTP/RTCP packet codec (RFC 3550), RFC 4733
 * telephone events, an {@linkcode RtpSession} on a UDP socket (reordering, de-duplication,
 * SSRC changes, symmetric RTP latching, DTMF both ways, inactivity timeout, minimal RTCP),
 * an {@linkcode RtpLeg} joining a session to a call's `voice/<sid>/uplink` and
 * `voice/<sid>/downlink` tracks, and on-box voice-activity detection for calls nobody
 * bridged.
 *
 * @example
 * ```ts
 * import { Origin } from "../relay/model/mod.ts";
 * import { RtpLeg, type RtpPayloadMap, RtpSession } from "./mod.ts";
 *
 * const origin = new Origin();
 * // What the SDP offer/answer agreed on (the SIP gateway's negotiateAudio, src/sip/sdp.ts).
 * const payloads: RtpPayloadMap = {
 *   audio: { payloadType: 0, codec: "g711_ulaw", clockRate: 8000 },
 *   telephoneEvent: { payloadType: 101, clockRate: 8000 },
 * };
 * const session = await RtpSession.open({ hostname: "127.0.0.1", payloads });
 * const leg = await RtpLeg.start({ origin, sid: "CA1", session });
 * // … SDP answer carries session.localPort …
 * await leg.stop(); // also closes the session
 * ```
 *
 * @module
 */
export * from "./dtmf_receiver.ts";
export * from "./engine/mod.ts";
export * from "./error.ts";
export * from "./leg.ts";
export * from "./packet.ts";
export * from "./payload_types.ts";
export { DEFAULT_RTP_PORT_RANGE, type RtpPortRange } from "./port_allocator.ts";
export type { ReceiveReport } from "./receive_statistics.ts";
export * from "./reorder_buffer.ts";
export * from "./rtcp.ts";
export * from "./session.ts";
export * from "./telephone_event.ts";
export * from "./vad.ts";
