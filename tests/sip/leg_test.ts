import { assert, assertEquals, assertThrows } from "@std/assert";
import { IllegalLegTransitionError, LegTable, SipLeg } from "../../src/sip/leg.ts";
import { confirmedLeg, fakeMedia, fakeProgress, inboundLeg, PCMU_AUDIO } from "./_fakes.ts";
import type { Core } from "sip.js";

Deno.test("leg: offering → early → confirmed → terminated is walked; every state says what it holds", () => {
  const { leg, invite } = inboundLeg();
  assertEquals(leg.state.name, "offering");
  assertEquals(leg.pending?.direction, "inbound");
  assertEquals(leg.session, undefined);
  leg.transition({ name: "early", pending: leg.pending! });
  const { fake } = confirmedLeg("CA2");
  leg.transition({
    name: "confirmed",
    session: fake.session,
    audio: PCMU_AUDIO,
    localDirection: "sendrecv",
  });
  assertEquals(leg.pending, undefined, "an answered leg holds no INVITE");
  assertEquals(leg.session, fake.session);
  assertEquals(leg.ended.aborted, false);
  leg.transition({ name: "terminated", reason: "caller_hangup" });
  assert(leg.isTerminated);
  assertEquals(leg.state.name === "terminated" && leg.state.reason, "caller_hangup");
  assertEquals(invite.delegate, undefined);
});

Deno.test("leg: illegal edges are refused with IllegalLegTransitionError and leave the state as it was", () => {
  const { leg, fake } = confirmedLeg();
  const error = assertThrows(
    () => leg.transition({ name: "early", pending: { direction: "inbound" } as never }),
    IllegalLegTransitionError,
  );
  assertEquals([error.from, error.to], ["confirmed", "early"]);
  assertEquals(leg.session, fake.session);
  leg.transition({ name: "terminated", reason: "hangup" });
  for (const name of ["offering", "early", "confirmed", "terminated"] as const) {
    assertThrows(
      () => leg.transition({ name, reason: "hangup" } as never),
      IllegalLegTransitionError,
    );
  }
});

Deno.test("leg: terminating detaches the dialog's delegate (sip.js keeps transactions for 64·T1) and aborts `ended`", () => {
  const { leg, fake } = confirmedLeg();
  fake.session.delegate = { onBye: () => {} };
  let settled = false;
  leg.ended.addEventListener("abort", () => settled = true);
  leg.transition({ name: "terminated", reason: "hangup" });
  assertEquals(fake.session.delegate, undefined);
  assert(settled, "what waits on the leg hears that it ended");
});

Deno.test("leg: an outbound leg's ring timer is cleared when it is answered or ended", async () => {
  for (const next of ["confirmed", "terminated"] as const) {
    let rang = false;
    const leg = new SipLeg({
      sid: "CA1",
      callId: "c1",
      progress: fakeProgress(),
      media: fakeMedia(),
      pending: {
        direction: "outbound",
        outgoing: { cancel() {} } as unknown as Core.OutgoingInviteRequest,
        ringTimer: setTimeout(() => rang = true, 0),
      },
      remoteIdentity: "+14155550123",
      contact: "<sip:clutchcall@127.0.0.1>",
    });
    leg.transition(
      next === "confirmed"
        ? {
          name: "confirmed",
          session: { delegate: undefined } as unknown as Core.Session,
          audio: PCMU_AUDIO,
          localDirection: "sendrecv",
        }
        : { name: "terminated", reason: "hangup" },
    );
    // A timer of the same delay set later fires after the ring timer would have.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assertEquals(rang, false, `ring timer after ${next}`);
  }
});

Deno.test("leg: progress reports run in order even when an earlier one is slow or fails", async () => {
  const { leg } = inboundLeg();
  const order: string[] = [];
  const slow = Promise.withResolvers<void>();
  const errors: unknown[] = [];
  leg.report(async () => {
    await slow.promise;
    order.push("answered");
    throw new Error("store down");
  }, (e) => errors.push(e));
  const last = leg.report(() => {
    order.push("ended");
    return Promise.resolve();
  }, (e) => errors.push(e));
  slow.resolve();
  await last;
  assertEquals(order, ["answered", "ended"]);
  assertEquals(errors.length, 1);
});

Deno.test("leg table: a call's own leg is found by sid and Call-ID; a transfer target's only by Call-ID", () => {
  const table = new LegTable();
  const { leg } = inboundLeg("CA1");
  const target = new SipLeg({
    sid: "CA1",
    callId: "target",
    progress: fakeProgress(),
    media: fakeMedia(),
    pending: { direction: "outbound", outgoing: {} as Core.OutgoingInviteRequest },
    remoteIdentity: "+14155550123",
    contact: "<sip:clutchcall@127.0.0.1>",
    tracks: { publish: "downlink", play: "uplink" },
  });
  table.add(leg);
  table.add(target);
  assertEquals([table.size, table.callIds], [1, 2]);
  assertEquals(table.bySid("CA1"), leg);
  assertEquals(table.byCallId("target"), target);
  table.delete(target);
  table.delete(leg);
  assertEquals([table.size, table.callIds], [0, 0]);
});
