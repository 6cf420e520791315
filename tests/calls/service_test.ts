/**
 * The calls service's state machine, in memory (an in-memory KV store, the relay's Origin, an
 * in-memory gateway): one source of truth per call status (its far leg), domain errors instead
 * of HTTP statuses, and state changes that survive a store refusing writes.
 */
import { assert, assertEquals, assertInstanceOf, assertRejects } from "@std/assert";
import {
  type Call,
  CallConflictError,
  type CallGateway,
  CallNotFoundError,
  type CallProgress,
  CallService,
  GatewayFailedError,
  IllegalCallTransitionError,
  InvalidFilterError,
  KvCallStore,
  StoreUnavailableError,
} from "../../src/calls/mod.ts";
import { Origin } from "../../src/relay/model/origin.ts";
import { createLogger } from "../../src/log/mod.ts";
import { metrics } from "../../src/metrics/mod.ts";
import { FlakyStore } from "../_lib/flaky_store.ts";

const log = createLogger({ level: "error", json: true, sink: () => {} });

/** Waits for `condition` (a state the service reaches); the bound only guards against a hang. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const hang = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > hang) throw new Error(`Never reached: ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A gateway that records its legs and lets the test report their progress. */
class MemoryGateway implements CallGateway {
  readonly legs = new Map<string, CallProgress>();
  readonly dialed = Promise.withResolvers<string>();
  digitsError: Error | undefined;
  dial(call: Call, progress: CallProgress): void {
    this.legs.set(call.sid, progress);
    this.dialed.resolve(call.sid);
  }
  sendDigits(): Promise<void> {
    return this.digitsError ? Promise.reject(this.digitsError) : Promise.resolve();
  }
}

/** A store that holds client lookups until `release()` (a slow read while a call dials). */
class HeldLookupStore extends FlakyStore {
  readonly #gate = Promise.withResolvers<void>();
  readonly lookups = Promise.withResolvers<void>();
  release(): void {
    this.#gate.resolve();
  }
  override async getClient(identity: string) {
    this.lookups.resolve();
    await this.#gate.promise;
    return await this.inner.getClient(identity);
  }
}

async function setup(
  options: { gateway?: CallGateway; flaky?: boolean; held?: boolean } = {},
) {
  const inner = await KvCallStore.open();
  const store = options.held
    ? new HeldLookupStore(inner)
    : options.flaky
    ? new FlakyStore(inner)
    : inner;
  const origin = new Origin();
  const calls = new CallService({
    store,
    origin,
    log,
    gateway: options.gateway,
    persistRetryMs: 5,
  });
  await calls.start();
  /** Resolves with the call when it reaches `status` (an event, not a poll). */
  const reaches = (sid: string, status: string) =>
    new Promise<Call>((resolve) => {
      const stop = calls.events.onCall(sid, (event) => {
        if (event.type === "status" && event.call.status === status) {
          stop();
          resolve(event.call);
        }
      });
    });
  const rung = (identity: string) =>
    new Promise<Call>((resolve) => {
      const stop = calls.events.onIncoming(identity, (event) => {
        if (event.type === "ring") {
          stop();
          resolve(event.call);
        }
      });
    });
  const uplink = (sid: string) =>
    origin.publishTrack({ namespace: ["voice", sid], name: "uplink", capability: "voice/opus" });
  return {
    calls,
    store,
    origin,
    reaches,
    rung,
    uplink,
    async [Symbol.asyncDispose]() {
      await calls.close();
      store.close();
    },
  };
}

Deno.test("a client call: dialing → ringing → answered → hung up, each status once, in order", async () => {
  await using fx = await setup();
  await fx.calls.registerClient("alice");
  const statuses: string[] = [];
  const ringing = fx.rung("alice");
  const call = await fx.calls.originate({ from: "+14155550100", to: "client:alice" });
  fx.calls.events.onCall(call.sid, (e) => e.type === "status" && statuses.push(e.call.status));
  assertEquals(call.status, "dialing");
  assertEquals((await ringing).status, "ringing");
  assertEquals((await fx.calls.answer(call.sid)).status, "in_progress");
  const ended = await fx.calls.hangup(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
  assertEquals(statuses, ["ringing", "in_progress", "completed"]);
  const again = await assertRejects(() => fx.calls.hangup(call.sid), IllegalCallTransitionError);
  assertEquals(again.currentStatus, "completed");
});

Deno.test("a client leg reports through its media: its uplink answers, its end hangs up", async () => {
  await using fx = await setup();
  await fx.calls.registerClient("bob");
  const ringing = fx.rung("bob");
  const call = await fx.calls.originate({ from: "+14155550100", to: "client:bob" });
  await ringing;
  const answered = fx.reaches(call.sid, "in_progress");
  const track = fx.uplink(call.sid);
  await answered;
  const completed = fx.reaches(call.sid, "completed");
  track.close();
  assertEquals((await completed).endReason, "caller_hangup");
  assertEquals(fx.calls.tables().ringTimers, 0);
});

Deno.test("a client leg whose uplink attached while its call was still dialing answers it once it rings (91a525b)", async () => {
  await using fx = await setup({ held: true });
  const store = fx.store as HeldLookupStore;
  await fx.calls.registerClient("cleo");
  const call = await fx.calls.originate({
    from: "+14155550100",
    to: "client:cleo",
    // Without the fix the call stayed ringing until this timeout ended it as no_answer.
    ringTimeoutMs: 5_000,
  });
  // The call is dialing: its client lookup is held, so no ring (and no ring timer) yet.
  await store.lookups.promise;
  assertEquals((await fx.calls.get(call.sid)).status, "dialing");
  const published = new Promise<void>((resolve) => {
    const stop = fx.calls.events.onCall(call.sid, (e) => {
      if (e.type === "media" && e.track === "uplink" && e.state === "published") {
        stop();
        resolve();
      }
    });
  });
  const track = fx.uplink(call.sid);
  await published;
  assertEquals((await fx.calls.get(call.sid)).status, "dialing");
  const outcome = Promise.race([
    fx.reaches(call.sid, "in_progress"),
    fx.reaches(call.sid, "no_answer"),
  ]);
  store.release();
  const answered = await outcome;
  assertEquals(answered.status, "in_progress");
  assertEquals(Object.keys(answered.times), ["dialing", "ringing", "in_progress"]);
  const completed = fx.reaches(call.sid, "completed");
  track.close();
  assertEquals((await completed).endReason, "caller_hangup");
});

Deno.test("a client leg's track says why it ended: an aborted uplink is connection_lost", async () => {
  await using fx = await setup();
  await fx.calls.registerClient("bea");
  const ringing = fx.rung("bea");
  const call = await fx.calls.originate({ from: "+14155550100", to: "client:bea" });
  await ringing;
  const answered = fx.reaches(call.sid, "in_progress");
  const track = fx.uplink(call.sid);
  await answered;
  const completed = fx.reaches(call.sid, "completed");
  // What the relay does when the client's MoQT session closes under the track.
  track.abort(new Error("The publisher's session closed"));
  assertEquals((await completed).endReason, "connection_lost");
});

Deno.test("a gateway call's status comes from the gateway only, never from its tracks", async () => {
  const gateway = new MemoryGateway();
  await using fx = await setup({ gateway });
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  const leg = gateway.legs.get(await gateway.dialed.promise)!;
  // Early media: the gateway's leg publishes before the far end answers.
  const early = fx.uplink(call.sid);
  await leg.ringing();
  assertEquals((await fx.calls.get(call.sid)).status, "ringing", "a track does not answer it");
  // POST /answer is for calls ringing a client: an outbound SIP call is answered by its far end.
  const refused = await assertRejects(() => fx.calls.answer(call.sid), IllegalCallTransitionError);
  assertEquals(refused.currentStatus, "ringing");
  await leg.answered();
  assertEquals((await fx.calls.get(call.sid)).status, "in_progress");
  early.close();
  await early.closed;
  assertEquals((await fx.calls.get(call.sid)).status, "in_progress", "a track end does not end it");
  await leg.ended("caller_hangup");
  const ended = await fx.calls.get(call.sid);
  assertEquals([ended.status, ended.endReason], ["completed", "caller_hangup"]);
});

Deno.test("refusals are domain errors: not found, conflict, gateway failure, bad filter", async () => {
  const gateway = new MemoryGateway();
  await using fx = await setup({ gateway });
  await assertRejects(() => fx.calls.get("CAnope"), CallNotFoundError);
  await assertRejects(() => fx.calls.hangup("CAnope"), CallNotFoundError);
  await assertRejects(
    () => fx.calls.list({ createdAfter: 2000, createdBefore: 1000 }, 10),
    InvalidFilterError,
  );
  await fx.calls.registerClient("carol");
  const ringing = fx.rung("carol");
  const client = await fx.calls.originate({ from: "+14155550100", to: "client:carol" });
  await ringing;
  await fx.calls.answer(client.sid);
  const noLeg = await assertRejects(() => fx.calls.sendDigits(client.sid, "1"), CallConflictError);
  assertEquals(noLeg.reason, "no_gateway_leg");

  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  await gateway.legs.get(await gateway.dialed.promise)!.answered();
  gateway.digitsError = Object.assign(new Error("No live SIP leg"), { status: 481 });
  const failed = await assertRejects(() => fx.calls.sendDigits(call.sid, "1"), GatewayFailedError);
  assertEquals(failed.gatewayStatus, 481);
});

Deno.test("a leg's report the store refuses is retried until persisted; never left in_progress", async () => {
  const gateway = new MemoryGateway();
  await using fx = await setup({ gateway, flaky: true });
  const store = fx.store as FlakyStore;
  const call = await fx.calls.originate({ from: "+14155550100", to: "+14155550123" });
  const leg = gateway.legs.get(await gateway.dialed.promise)!;
  await leg.answered();
  assertEquals(fx.calls.ready(), { ok: true, reasons: [] });

  const writeErrors = async () =>
    (await metrics.storageErrors.get()).values.find((v) => v.labels.operation === "write")
      ?.value ?? 0;
  const errorsBefore = await writeErrors();
  store.failing = true;
  // A request that needs a write gets the domain's "unavailable", with no driver message.
  const refused = await assertRejects(
    () => fx.calls.originate({ from: "+14155550100", to: "+14155550123" }),
    StoreUnavailableError,
  );
  assertEquals(await writeErrors(), errorsBefore + 1, "the storage error is counted in /metrics");
  assert(!refused.message.includes("/secret/path"), refused.message);
  assertEquals(refused.retryAfterSec > 0, true);
  // The far end hangs up while the disk is full: the report waits, it is not dropped.
  const completed = fx.reaches(call.sid, "completed");
  const reported = leg.ended("caller_hangup");
  await until(() => store.writesRefused >= 3, "three refused writes");
  const notReady = fx.calls.ready();
  assertEquals(notReady.ok, false);
  assert(notReady.reasons.some((r) => r.includes("refuses writes")), notReady.reasons.join());
  assertEquals((await fx.calls.get(call.sid)).status, "in_progress", "not persisted yet");

  store.failing = false;
  await reported;
  const ended = await completed;
  assertEquals([ended.status, ended.endReason], ["completed", "caller_hangup"]);
  assertEquals((await fx.calls.get(call.sid)).status, "completed");
  assertEquals(fx.calls.ready(), { ok: true, reasons: [] });
});

Deno.test("readiness recovers without traffic once the store takes writes again (its probe)", async () => {
  await using fx = await setup({ flaky: true });
  const store = fx.store as FlakyStore;
  store.failing = true;
  await assertRejects(() => fx.calls.registerClient("ann"), StoreUnavailableError);
  assertEquals(fx.calls.ready().ok, false);
  const refusedSoFar = store.writesRefused;
  // The service probes on its own: wait until a probe has been refused, then heal the store.
  await until(() => store.writesRefused > refusedSoFar, "a refused probe");
  store.failing = false;
  await until(() => fx.calls.ready().ok, "ready again");
  assertEquals(fx.calls.ready(), { ok: true, reasons: [] });
});

Deno.test("reconciliation after a restart finishes before the service is ready", async () => {
  const inner = await KvCallStore.open();
  const origin = new Origin();
  {
    const first = new CallService({ store: inner, origin, log });
    await first.start();
    await first.registerClient("dora");
    await first.originate({ from: "+14155550100", to: "client:dora" });
    await first.close();
  }
  const second = new CallService({ store: inner, origin, log, reconcileGraceMs: 50 });
  try {
    await second.start();
    assertEquals(second.ready().ok, false);
    assert(second.ready().reasons[0].includes("Reconciling"));
    await second.reconciled;
    assertEquals(second.ready(), { ok: true, reasons: [] });
    const [call] = (await second.list({}, 10)).calls;
    assertEquals([call.status, call.endReason], ["failed", "server_restart"]);
  } finally {
    await second.close();
    inner.close();
  }
  assertInstanceOf(second, CallService);
});
