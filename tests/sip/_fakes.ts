/**
 * In-memory stand-ins below the SIP boundary for the gateway pieces' unit tests: a media leg
 * without sockets, a progress handle that records what it was told, sip.js transactions and
 * sessions that record what the gateway did with them, and real parsed SIP messages.
 *
 * @module
 */
import { Core } from "sip.js";
import type { CallProgress } from "../../src/calls/gateway.ts";
import { SipLeg } from "../../src/sip/leg.ts";
import type { MediaLeg } from "../../src/sip/media.ts";
import { negotiateAudio, type NegotiatedAudio, parseSdp } from "../../src/sip/sdp.ts";

/** A media leg that records its calls. */
export function fakeMedia(log: string[] = []): MediaLeg {
  let closed = false;
  const close = () => {
    if (!closed) log.push("close");
    closed = true;
    return Promise.resolve();
  };
  return {
    localPort: 40000,
    start: (p) => (void log.push(`start ${p.direction}`), Promise.resolve()),
    update: (p) => (void log.push(`update ${p.direction}`), Promise.resolve()),
    sendDigits: (d) => (void log.push(`digits ${d}`), Promise.resolve()),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A progress handle recording its reports as strings ("ended canceled 487"). */
export function fakeProgress(
  reports: string[] = [],
  abort = new AbortController(),
): CallProgress & { readonly abort: AbortController } {
  return {
    abort,
    signal: abort.signal,
    ringing: () => (void reports.push("ringing"), Promise.resolve()),
    answered: () => (void reports.push("answered"), Promise.resolve()),
    ended: (reason, detail) => {
      reports.push(`ended ${reason}${detail?.sipStatus ? ` ${detail.sipStatus}` : ""}`);
      return Promise.resolve();
    },
    digits: (d) => void reports.push(`digits ${d}`),
  };
}

/** What a fake session was asked to do. */
export interface FakeSession {
  readonly session: Core.Session;
  readonly refers: { delegate?: Core.OutgoingRequestDelegate; headers: string[] }[];
  byes: number;
}

/** A confirmed dialog that records REFER and BYE. */
export function fakeSession(): FakeSession {
  const fake: FakeSession = {
    refers: [],
    byes: 0,
    session: undefined as unknown as Core.Session,
  };
  (fake as { session: unknown }).session = {
    delegate: undefined,
    sessionState: Core.SessionState.Confirmed,
    refer(delegate?: Core.OutgoingRequestDelegate, options?: Core.RequestOptions) {
      fake.refers.push({ delegate, headers: options?.extraHeaders ?? [] });
      return {};
    },
    bye() {
      fake.byes++;
      return {};
    },
  };
  return fake;
}

/** A PCMU offer (with telephone-event) from 127.0.0.1:30000, as the gateway negotiates it. */
export const PCMU_OFFER = [
  "v=0",
  "o=- 1 1 IN IP4 127.0.0.1",
  "s=-",
  "c=IN IP4 127.0.0.1",
  "t=0 0",
  "m=audio 30000 RTP/AVP 0 101",
  "a=rtpmap:0 PCMU/8000",
  "a=rtpmap:101 telephone-event/8000",
  "a=fmtp:101 0-15",
  "",
].join("\r\n");

/** {@linkcode PCMU_OFFER} negotiated. */
export const PCMU_AUDIO: NegotiatedAudio = negotiateAudio(parseSdp(PCMU_OFFER), ["g711_ulaw"]);

/** An inbound INVITE server transaction that records its final response. */
export function fakeInvite(responses: number[] = []): Core.IncomingInviteRequest {
  return {
    delegate: undefined,
    message: undefined as unknown as Core.IncomingRequestMessage,
    trying: () => responses.push(100),
    progress: (o?: Core.ResponseOptions) => void responses.push(o?.statusCode ?? 180),
    accept: () => {
      throw new Error("not used by this fake");
    },
    reject: (o?: Core.ResponseOptions) => void responses.push(o?.statusCode ?? 480),
    redirect: () => undefined,
  } as unknown as Core.IncomingInviteRequest;
}

/** An inbound leg of `sid` in `offering`, on fakes. */
export function inboundLeg(
  sid = "CA1",
  options: { reports?: string[]; media?: string[]; responses?: number[] } = {},
): { leg: SipLeg; progress: ReturnType<typeof fakeProgress>; invite: Core.IncomingInviteRequest } {
  const progress = fakeProgress(options.reports);
  const invite = fakeInvite(options.responses);
  const leg = new SipLeg({
    sid,
    callId: `call-${sid}`,
    progress,
    media: fakeMedia(options.media),
    pending: { direction: "inbound", invite, offer: PCMU_AUDIO },
    remoteIdentity: "+14155550100",
    contact: "<sip:clutchcall@127.0.0.1:5060>",
  });
  return { leg, progress, invite };
}

/** A confirmed inbound leg on a fake session. */
export function confirmedLeg(
  sid = "CA1",
  options: { reports?: string[]; media?: string[] } = {},
): { leg: SipLeg; fake: FakeSession; progress: ReturnType<typeof fakeProgress> } {
  const { leg, progress } = inboundLeg(sid, options);
  const fake = fakeSession();
  leg.transition({
    name: "confirmed",
    session: fake.session,
    audio: PCMU_AUDIO,
    localDirection: "sendrecv",
  });
  return { leg, fake, progress };
}

const parserLogger = new Core.LoggerFactory().getLogger("test");

/** A SIP request parsed by sip.js from its lines (CRLFs and Content-Length added). */
export function parseRequest(lines: string[], body = ""): Core.IncomingRequestMessage {
  const text = [...lines, `Content-Length: ${new TextEncoder().encode(body).length}`, "", body]
    .join("\r\n");
  const message = Core.Parser.parseMessage(text, parserLogger);
  if (!(message instanceof Core.IncomingRequestMessage)) throw new Error("Not a request");
  return message;
}
