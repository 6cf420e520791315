/**
 * In-dialog handling on a confirmed leg, in memory: sip.js's session replaced by a fake that
 * hands the gateway's delegate real parsed requests and records the answers.
 */
import { assert, assertEquals } from "@std/assert";
import type { Core } from "sip.js";
import { createLogger } from "../../src/log/mod.ts";
import { watchSession } from "../../src/sip/dialog.ts";
import type { SipEndpoint } from "../../src/sip/endpoint.ts";
import { LegRuntime } from "../../src/sip/leg_runtime.ts";
import { signallingOnlyMedia } from "../../src/sip/media.ts";
import { parseSipConfig } from "../../src/sip/config.ts";
import { confirmedLeg, parseRequest } from "./_fakes.ts";

function runtime(): LegRuntime {
  return new LegRuntime({
    config: parseSipConfig({}),
    endpoint: { publicAddress: "127.0.0.1", release() {}, lingerMs: 0 } as unknown as SipEndpoint,
    media: signallingOnlyMedia,
    calls: {
      admitInbound: () => Promise.reject(new Error("unused")),
      ringClient: () => Promise.resolve(false),
      transfer: () => Promise.resolve(undefined),
    },
    log: createLogger({ level: "error", json: true, sink: () => {} }),
  });
}

/** A request as sip.js hands it to a delegate: the message, and accept/reject recorded. */
function incoming(message: Core.IncomingRequestMessage) {
  const answers: { status: number; body?: string }[] = [];
  const request = {
    message,
    accept: (o?: Core.ResponseOptions) => {
      answers.push({ status: o?.statusCode ?? 200, body: o?.body?.content });
      return {};
    },
    reject: (o?: Core.ResponseOptions) => {
      answers.push({ status: o?.statusCode ?? 480 });
      return {};
    },
  };
  return { request, answers };
}

const reinvite = (address: string, codec = "0 PCMU/8000") =>
  parseRequest(
    [
      "INVITE sip:clutchcall@127.0.0.1 SIP/2.0",
      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-re",
      "From: <sip:+14155550100@127.0.0.1>;tag=a",
      "To: <sip:+14155550199@127.0.0.1>;tag=b",
      "Call-ID: dialog-1",
      "CSeq: 2 INVITE",
      "Content-Type: application/sdp",
    ],
    [
      "v=0",
      "o=- 1 2 IN IP4 127.0.0.1",
      "s=-",
      `c=IN IP4 ${address}`,
      "t=0 0",
      `m=audio 30000 RTP/AVP ${codec.split(" ")[0]}`,
      `a=rtpmap:${codec}`,
      "",
    ].join("\r\n"),
  );

function fakeDialog(fake: { session: Core.Session }) {
  // answerUpdates wraps the dialog's receiveRequest; the fake has one.
  Object.assign(fake.session, { receiveRequest: () => {}, sequenceGuard: () => true });
}

Deno.test("dialog (unit): a re-INVITE putting us on hold (c=0.0.0.0) is answered recvonly, applied to the media, and bumps our SDP version", async () => {
  const mediaLog: string[] = [];
  const { leg, fake } = confirmedLeg("CA1", { media: mediaLog });
  fakeDialog(fake);
  const rt = runtime();
  watchSession(rt, leg, fake.session);
  const { request, answers } = incoming(reinvite("0.0.0.0"));
  fake.session.delegate?.onInvite?.(request as unknown as Core.IncomingInviteRequest);
  assertEquals(answers.length, 1);
  assertEquals(answers[0].status, 200);
  assert(answers[0].body?.includes("a=recvonly"), answers[0].body);
  assertEquals(leg.sdpVersion, 2);
  assertEquals(leg.state.name === "confirmed" && leg.state.localDirection, "recvonly");
  await Promise.resolve();
  assertEquals(mediaLog, ["update recvonly"]);
});

Deno.test("dialog (unit): a re-INVITE offering another codec than the call's is refused 488 and changes nothing", () => {
  const { leg, fake } = confirmedLeg();
  fakeDialog(fake);
  watchSession(runtime(), leg, fake.session);
  const before = leg.state;
  const { request, answers } = incoming(reinvite("127.0.0.1", "8 PCMA/8000"));
  fake.session.delegate?.onInvite?.(request as unknown as Core.IncomingInviteRequest);
  assertEquals(answers, [{ status: 488 }]);
  assertEquals(leg.state, before);
  assertEquals(leg.sdpVersion, 1);
});

Deno.test("dialog (unit): a BYE is answered 200 and ends the leg caller_hangup; its media is closed and the end reported", async () => {
  const reports: string[] = [];
  const mediaLog: string[] = [];
  const { leg, fake } = confirmedLeg("CA1", { reports, media: mediaLog });
  fakeDialog(fake);
  watchSession(runtime(), leg, fake.session);
  const { request, answers } = incoming(parseRequest([
    "BYE sip:clutchcall@127.0.0.1 SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-bye",
    "From: <sip:+14155550100@127.0.0.1>;tag=a",
    "To: <sip:+14155550199@127.0.0.1>;tag=b",
    "Call-ID: dialog-1",
    "CSeq: 3 BYE",
  ]));
  fake.session.delegate?.onBye?.(request as unknown as Core.IncomingByeRequest);
  assertEquals(answers, [{ status: 200, body: undefined }]);
  assert(leg.isTerminated);
  await leg.report(() => Promise.resolve(), () => {});
  assertEquals(reports, ["ended caller_hangup"]);
  assertEquals(mediaLog, ["close"]);
});
