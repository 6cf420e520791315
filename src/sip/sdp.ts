/**
 * SDP (RFC 4566) for the gateway's offer/answer (RFC 3264): a strict, bounded parser of the
 * subset a voice B2BUA needs, the codec negotiation and the writer.
 *
 * Why not `sdp-transform`: it parses anything with unbounded regexes and returns whatever it
 * found, so limits (size, lines, media sections, formats) and validation would have to be
 * written around it anyway; the subset used here (v/o/c/m/a=rtpmap/fmtp/ptime/direction) is
 * small enough to parse strictly in one pass with every limit checked up front.
 *
 * @module
 */
import {
  capabilityOf,
  RTP_CODECS,
  type RtpCodec,
  rtpCodecOfSdp,
  sdpNameOf,
  type VoiceCapability,
} from "../codecs/codec.ts";
import { SdpError } from "./error.ts";

/** Limits that bound the parser's work on hostile input. */
export const SDP_LIMITS = Object.freeze({
  /** Bytes in the whole body. */
  maxLength: 16_384,
  /** Lines in the whole body. */
  maxLines: 256,
  /** Characters in one line. */
  maxLineLength: 1024,
  /** `m=` sections. */
  maxMedia: 8,
  /** Payload types on one `m=` line. */
  maxFormats: 32,
});

/** Media direction attribute. */
export type SdpDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

/** An `a=rtpmap` entry. */
export interface RtpMap {
  readonly encoding: string;
  readonly clockRate: number;
  readonly channels: number;
}

/** One `m=` section. */
export interface SdpMedia {
  readonly type: string;
  readonly port: number;
  readonly protocol: string;
  readonly formats: readonly number[];
  readonly rtpmap: ReadonlyMap<number, RtpMap>;
  readonly fmtp: ReadonlyMap<number, string>;
  readonly direction: SdpDirection;
  /** The section's `c=` address, else the session's. */
  readonly address: string | undefined;
  readonly ptime: number | undefined;
}

/** A parsed session description. */
export interface SessionDescription {
  readonly sessionId: string;
  readonly version: string;
  readonly address: string | undefined;
  readonly media: readonly SdpMedia[];
}

const DIRECTIONS = new Set(["sendrecv", "sendonly", "recvonly", "inactive"]);
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
const ADDRESS = /^[0-9A-Za-z.:\-]{1,255}$/;

/**
 * Parses an SDP body; throws {@linkcode SdpError} (and nothing else) on malformed or
 * over-limit input.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseSdp } from "./sdp.ts";
 * const sdp = parseSdp("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n");
 * assertEquals(sdp.media[0].port, 4000);
 * assertEquals(sdp.media[0].rtpmap.get(101)?.encoding, "telephone-event");
 * assertEquals(sdp.media[0].rtpmap.get(8), undefined); // static payload types need no rtpmap
 * ```
 */
export function parseSdp(text: string): SessionDescription {
  if (typeof text !== "string") throw new SdpError("Cannot parse SDP: not text");
  if (text.length > SDP_LIMITS.maxLength) {
    throw new SdpError(`Cannot parse SDP: longer than ${SDP_LIMITS.maxLength} bytes`);
  }
  const lines = text.split(/\r?\n/);
  if (lines.length > SDP_LIMITS.maxLines + 1) {
    throw new SdpError(`Cannot parse SDP: more than ${SDP_LIMITS.maxLines} lines`);
  }
  let sessionId: string | undefined;
  let version = "0";
  let sessionAddress: string | undefined;
  let sessionDirection: SdpDirection = "sendrecv";
  const media: MutableMedia[] = [];
  let current: MutableMedia | undefined;
  let sawVersion = false;
  for (const line of lines) {
    if (line === "") continue;
    if (line.length > SDP_LIMITS.maxLineLength) {
      throw new SdpError(`Cannot parse SDP: a line is longer than ${SDP_LIMITS.maxLineLength}`);
    }
    if (line.length < 2 || line[1] !== "=") {
      throw new SdpError(`Cannot parse SDP: malformed line "${line.slice(0, 40)}"`);
    }
    const type = line[0];
    const value = line.slice(2);
    if (!sawVersion) {
      if (type !== "v" || value !== "0") throw new SdpError("Cannot parse SDP: no v=0 first");
      sawVersion = true;
      continue;
    }
    switch (type) {
      case "o": {
        const parts = value.split(" ");
        if (parts.length !== 6) throw new SdpError("Cannot parse SDP: malformed o= line");
        sessionId = parts[1];
        version = parts[2];
        break;
      }
      case "c": {
        const address = parseConnection(value);
        if (current) current.address = address;
        else sessionAddress = address;
        break;
      }
      case "m": {
        if (media.length >= SDP_LIMITS.maxMedia) {
          throw new SdpError(`Cannot parse SDP: more than ${SDP_LIMITS.maxMedia} media sections`);
        }
        current = parseMediaLine(value, sessionDirection);
        media.push(current);
        break;
      }
      case "a":
        parseAttribute(value, current, (d) => sessionDirection = d);
        break;
      default:
        // s=, t=, b=, i=, u=, e=, p=, k=, r=, z= carry nothing the gateway uses.
        if (!/^[a-z]$/.test(type)) throw new SdpError("Cannot parse SDP: bad line type");
    }
  }
  if (!sawVersion) throw new SdpError("Cannot parse SDP: empty");
  if (sessionId === undefined) throw new SdpError("Cannot parse SDP: no o= line");
  return {
    sessionId,
    version,
    address: sessionAddress,
    media: media.map((m) => ({
      ...m,
      address: m.address ?? sessionAddress,
      direction: m.direction ?? sessionDirection,
    })),
  };
}

interface MutableMedia {
  type: string;
  port: number;
  protocol: string;
  formats: number[];
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, string>;
  direction: SdpDirection | undefined;
  address: string | undefined;
  ptime: number | undefined;
}

function parseConnection(value: string): string {
  const parts = value.split(" ");
  if (parts.length !== 3 || parts[0] !== "IN" || (parts[1] !== "IP4" && parts[1] !== "IP6")) {
    throw new SdpError("Cannot parse SDP: malformed c= line");
  }
  const address = parts[2].split("/")[0];
  if (!ADDRESS.test(address)) throw new SdpError("Cannot parse SDP: bad c= address");
  return address;
}

function parseMediaLine(value: string, _direction: SdpDirection): MutableMedia {
  const parts = value.split(" ");
  if (parts.length < 4) throw new SdpError("Cannot parse SDP: malformed m= line");
  const [type, portPart, protocol, ...formats] = parts;
  if (!TOKEN.test(type) || !TOKEN.test(protocol.replaceAll("/", "."))) {
    throw new SdpError("Cannot parse SDP: malformed m= line");
  }
  const port = parseInteger(portPart.split("/")[0], 0, 65535, "m= port");
  if (formats.length > SDP_LIMITS.maxFormats) {
    throw new SdpError(`Cannot parse SDP: more than ${SDP_LIMITS.maxFormats} formats`);
  }
  const isRtp = protocol.startsWith("RTP/");
  return {
    type,
    port,
    protocol,
    formats: isRtp ? formats.map((f) => parseInteger(f, 0, 127, "payload type")) : [],
    rtpmap: new Map(),
    fmtp: new Map(),
    direction: undefined,
    address: undefined,
    ptime: undefined,
  };
}

function parseAttribute(
  value: string,
  media: MutableMedia | undefined,
  setSessionDirection: (d: SdpDirection) => void,
): void {
  if (DIRECTIONS.has(value)) {
    if (media) media.direction = value as SdpDirection;
    else setSessionDirection(value as SdpDirection);
    return;
  }
  if (!media) return;
  const colon = value.indexOf(":");
  if (colon < 0) return;
  const name = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (name === "rtpmap") {
    const match = /^(\d{1,3}) ([A-Za-z0-9_.\-]{1,32})\/(\d{1,6})(?:\/(\d{1,2}))?$/.exec(rest);
    if (!match) throw new SdpError("Cannot parse SDP: malformed rtpmap");
    const pt = parseInteger(match[1], 0, 127, "rtpmap payload type");
    media.rtpmap.set(pt, {
      encoding: match[2],
      clockRate: parseInteger(match[3], 1, 192_000, "clock rate"),
      channels: match[4] ? parseInteger(match[4], 1, 8, "channels") : 1,
    });
  } else if (name === "fmtp") {
    const space = rest.indexOf(" ");
    if (space < 0) return;
    media.fmtp.set(
      parseInteger(rest.slice(0, space), 0, 127, "fmtp payload type"),
      rest.slice(space + 1),
    );
  } else if (name === "ptime") {
    media.ptime = parseInteger(rest, 1, 1000, "ptime");
  }
}

function parseInteger(text: string, min: number, max: number, what: string): number {
  if (!/^\d{1,6}$/.test(text)) {
    throw new SdpError(`Cannot parse SDP: bad ${what} "${text.slice(0, 16)}"`);
  }
  const value = Number(text);
  if (value < min || value > max) throw new SdpError(`Cannot parse SDP: ${what} out of range`);
  return value;
}

/**
 * A codec the gateway carries without transcoding: the codec registry's RTP codecs
 * (`src/codecs/codec.ts`), named as everywhere else on the voice path (`g711_ulaw`, not
 * SDP's `PCMU`; SDP names live in the registry only).
 */
export type SipCodec = RtpCodec;

/** The relay capability tag for each codec (from the registry). */
export const CODEC_CAPABILITY: Readonly<Record<SipCodec, VoiceCapability>> = Object.freeze(
  Object.fromEntries(RTP_CODECS.map((c) => [c, capabilityOf(c)])) as Record<
    SipCodec,
    VoiceCapability
  >,
);

/**
 * The payload type, clock rate and channels we offer a codec with (from the registry).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { defaultPayloadFormat } from "./sdp.ts";
 * assertEquals(defaultPayloadFormat("opus"), { payloadType: 111, clockRate: 48000, channels: 2 });
 * ```
 */
export function defaultPayloadFormat(
  codec: SipCodec,
): { payloadType: number; clockRate: number; channels: number } {
  const { payloadType, clockRate, channels } = sdpNameOf(codec);
  return { payloadType, clockRate, channels };
}

/** What offer/answer agreed on for the audio stream. */
export interface NegotiatedAudio {
  readonly codec: SipCodec;
  readonly payloadType: number;
  readonly clockRate: number;
  readonly channels: number;
  /** The telephone-event payload type, when both sides do RFC 4733. */
  readonly dtmfPayloadType: number | undefined;
  /** The telephone-event clock rate the peer offered (it may differ from the audio's). */
  readonly dtmfClockRate?: number;
  /**
   * The events the peer's `a=fmtp` listed for telephone-event (e.g. `0-15`), to repeat in
   * the answer; `0-15` (RFC 4733 §2.4.1's default) when it listed none.
   */
  readonly dtmfEvents?: string;
  /**
   * The comfort-noise (RFC 3389, `CN/8000`) payload type, when the peer offered it and the
   * audio runs at 8 kHz (G.711): the leg then sends CN, not silence frames, while nothing
   * plays. (Opus has its own DTX.)
   */
  readonly cnPayloadType?: number;
  /** Where the peer wants RTP. */
  readonly remote: { readonly address: string; readonly port: number };
  /** The direction of the peer's description. */
  readonly remoteDirection: SdpDirection;
  /** Index of the audio section in the peer's description. */
  readonly mediaIndex: number;
  readonly ptime: number;
}

/** An RFC 4733 §2.4.1 event list (`0-15,66`), bounded. */
const EVENT_LIST = /^\d{1,3}(?:-\d{1,3})?(?:,\d{1,3}(?:-\d{1,3})?){0,15}$/;

/**
 * Picks the first codec of `preference` that the peer's audio section carries, and its
 * telephone-event whatever the codec: the one at the codec's clock rate, else any (an Opus
 * offer may carry `telephone-event/8000`). Throws {@linkcode SdpError} when nothing fits.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { negotiateAudio, parseSdp } from "./sdp.ts";
 * const offer = parseSdp("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n");
 * assertEquals(negotiateAudio(offer, ["g711_alaw", "g711_ulaw"]).codec, "g711_ulaw");
 * ```
 */
export function negotiateAudio(
  description: SessionDescription,
  preference: readonly SipCodec[] = ["g711_ulaw", "g711_alaw", "opus"],
): NegotiatedAudio {
  const mediaIndex = description.media.findIndex((m) =>
    m.type === "audio" && m.port !== 0 && m.protocol.startsWith("RTP/AVP")
  );
  if (mediaIndex < 0) throw new SdpError("Cannot negotiate: no audio RTP/AVP stream offered");
  const media = description.media[mediaIndex];
  if (!media.address) throw new SdpError("Cannot negotiate: no connection address");
  const formats = media.formats.map((pt) => {
    const map = media.rtpmap.get(pt);
    const codec = rtpCodecOfSdp(
      map ? { encoding: map.encoding, clockRate: map.clockRate } : {
        encoding: "",
        clockRate: 0,
        payloadType: pt,
      },
    );
    return { pt, map, codec };
  });
  // The offerer's order wins among codecs we support; `preference` filters.
  const chosen = formats.find(({ codec }) => codec !== undefined && preference.includes(codec));
  if (!chosen) throw new SdpError("Cannot negotiate: no common audio codec");
  const codec = chosen.codec!;
  const { clockRate, channels } = chosen.map ?? sdpNameOf(codec);
  const events = formats.filter(({ map }) => map?.encoding.toLowerCase() === "telephone-event");
  const dtmf = events.find(({ map }) => map!.clockRate === clockRate) ?? events[0];
  const offeredEvents = dtmf && media.fmtp.get(dtmf.pt)?.replaceAll(" ", "");
  const cn = clockRate === 8000
    ? formats.find(({ pt, map }) =>
      map ? map.encoding.toLowerCase() === "cn" && map.clockRate === 8000 : pt === 13
    )
    : undefined;
  return {
    codec,
    payloadType: chosen.pt,
    clockRate,
    channels,
    dtmfPayloadType: dtmf?.pt,
    ...(dtmf ? { dtmfClockRate: dtmf.map!.clockRate } : {}),
    ...(dtmf
      ? {
        dtmfEvents: offeredEvents && EVENT_LIST.test(offeredEvents) ? offeredEvents : "0-15",
      }
      : {}),
    ...(cn ? { cnPayloadType: cn.pt } : {}),
    remote: { address: media.address, port: media.port },
    remoteDirection: media.direction,
    mediaIndex,
    ptime: media.ptime ?? 20,
  };
}

/**
 * The direction to answer with (RFC 3264 §6.1): the mirror of the offer's.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { answerDirection } from "./sdp.ts";
 * assertEquals(answerDirection("sendonly"), "recvonly");
 * ```
 */
export function answerDirection(offered: SdpDirection): SdpDirection {
  switch (offered) {
    case "sendonly":
      return "recvonly";
    case "recvonly":
      return "sendonly";
    default:
      return offered;
  }
}

/** What {@linkcode writeSdp} needs. */
export interface LocalDescription {
  readonly sessionId: string;
  readonly version: number;
  readonly address: string;
  readonly port: number;
  /** Offered in this order (an answer has exactly one). */
  readonly codecs: readonly {
    codec: SipCodec;
    payloadType: number;
    clockRate: number;
    channels: number;
  }[];
  readonly dtmfPayloadType?: number;
  /** telephone-event's clock rate [the first codec's]: an answer repeats the offer's. */
  readonly dtmfClockRate?: number;
  /**
   * The events to list in telephone-event's `a=fmtp` [`0-16` in an offer]: an answer repeats
   * what the offer listed (RFC 4733 §2.4.1), `0-15` when it listed none.
   */
  readonly dtmfEvents?: string;
  /** Comfort noise (RFC 3389) to answer with, when the offer had it. */
  readonly cnPayloadType?: number;
  readonly direction: SdpDirection;
  readonly ptime?: number;
  /** Rejected sections to echo with port 0, by index, so the answer keeps the offer's order. */
  readonly mediaIndex?: number;
  readonly rejected?: readonly SdpMedia[];
}

/**
 * Writes an SDP offer or answer with one audio section.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { writeSdp } from "./sdp.ts";
 * const text = writeSdp({ sessionId: "1", version: 1, address: "10.0.0.2", port: 20000, codecs: [{ codec: "g711_ulaw", payloadType: 0, clockRate: 8000, channels: 1 }], dtmfPayloadType: 101, direction: "sendrecv" });
 * assertEquals(text.includes("m=audio 20000 RTP/AVP 0 101"), true);
 * ```
 */
export function writeSdp(local: LocalDescription): string {
  const ip = local.address.includes(":") ? "IP6" : "IP4";
  const lines = [
    "v=0",
    `o=clutchcall ${local.sessionId} ${local.version} IN ${ip} ${local.address}`,
    "s=clutchcall",
    `c=IN ${ip} ${local.address}`,
    "t=0 0",
  ];
  const audio: string[] = [];
  const pts = local.codecs.map((c) => c.payloadType);
  if (local.cnPayloadType !== undefined) pts.push(local.cnPayloadType);
  if (local.dtmfPayloadType !== undefined) pts.push(local.dtmfPayloadType);
  audio.push(`m=audio ${local.port} RTP/AVP ${pts.join(" ")}`);
  for (const c of local.codecs) {
    const sdp = sdpNameOf(c.codec);
    audio.push(
      `a=rtpmap:${c.payloadType} ${sdp.name}/${c.clockRate}${
        c.channels > 1 ? "/" + c.channels : ""
      }`,
    );
    if (sdp.fmtp) audio.push(`a=fmtp:${c.payloadType} ${sdp.fmtp}`);
  }
  if (local.cnPayloadType !== undefined) audio.push(`a=rtpmap:${local.cnPayloadType} CN/8000`);
  if (local.dtmfPayloadType !== undefined) {
    const rate = local.dtmfClockRate ?? local.codecs[0]?.clockRate ?? 8000;
    audio.push(`a=rtpmap:${local.dtmfPayloadType} telephone-event/${rate}`);
    audio.push(`a=fmtp:${local.dtmfPayloadType} ${local.dtmfEvents ?? "0-16"}`);
  }
  audio.push(`a=ptime:${local.ptime ?? 20}`);
  audio.push(`a=${local.direction}`);
  const rejected = local.rejected ?? [];
  const index = local.mediaIndex ?? 0;
  for (let i = 0; i < Math.max(rejected.length, index + 1); i++) {
    if (i === index) lines.push(...audio);
    else if (rejected[i]) {
      const m = rejected[i];
      lines.push(`m=${m.type} 0 ${m.protocol} ${m.formats.length ? m.formats.join(" ") : "0"}`);
    }
  }
  return lines.join("\r\n") + "\r\n";
}
