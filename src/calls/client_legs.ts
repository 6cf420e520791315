/**
 * Client legs: a `client:` identity (an SDK or browser client, no gateway) registered, rung
 * and answering; its media in the relay is its leg — the uplink attaching answers a call
 * ringing it, the uplink ending says it hung up (cleanly) or was lost (with an error).
 *
 * @module
 */
import type { Call } from "./call.ts";
import { type CallCore, conflict, type IdempotencyClaim, record, step, unwrap } from "./core.ts";
import { ClientNotFoundError, IllegalCallTransitionError } from "./errors.ts";
import type { EndReason } from "./status.ts";
import type { ClientRegistration } from "./store.ts";
import { sidOf } from "../voice/track.ts";

/** `ringing`, the ring timer and the incoming `ring` event for a call rung at a client. */
export async function ring(
  core: CallCore,
  sid: string,
  identity: string,
  timeoutMs?: number,
): Promise<Call | undefined> {
  // The timer is set before the status is written, so an answer right after the `ring`
  // event finds the call ringing a client.
  core.ringTimers.set(
    sid,
    setTimeout(() => {
      core.ringTimers.delete(sid);
      core.track(core.advance(sid, "no_answer", "no_answer"));
    }, timeoutMs ?? core.ringTimeoutMs),
  );
  const ringing = await core.advance(sid, "ringing");
  if (!ringing) {
    clearTimeout(core.ringTimers.get(sid));
    core.ringTimers.delete(sid);
    return undefined;
  }
  core.events.emitIncoming(identity, { type: "ring", call: ringing });
  // The client's leg may have attached while the call was still dialing (its uplink came before
  // the ring timer existed, so onTrack did not count it): that attachment is its answer.
  if (core.liveTracks.get(sid)?.has("uplink") && !core.legs.has(sid)) {
    core.track(core.advance(sid, "in_progress"));
  }
  return ringing;
}

/** Rings `client:<identity>` for an inbound call (the service's `ringClient`). */
export async function ringClient(core: CallCore, sid: string, identity: string): Promise<boolean> {
  if (!await core.guard.read(() => core.store.getClient(identity))) {
    await core.advance(sid, "failed", "client_not_registered");
    return false;
  }
  core.ringingClients.set(sid, identity);
  const ringing = await ring(core, sid, identity);
  if (!ringing) core.ringingClients.delete(sid);
  return ringing !== undefined;
}

/** Answers a call ringing a client (the service's `answer`). */
export async function answer(
  core: CallCore,
  sid: string,
  claim?: IdempotencyClaim,
): Promise<Call> {
  const viaGateway = core.ringingClients.has(sid) && core.legs.has(sid);
  const answered = unwrap(
    await core.update(sid, claim, (call) => {
      if (call.status === "in_progress" || !core.ringTimers.has(sid)) {
        return new IllegalCallTransitionError(
          sid,
          call.status,
          `Cannot answer call "${sid}": it is ${call.status}, not ringing a client`,
        );
      }
      return step(call, "in_progress");
    }),
  );
  const gateway = core.gateway;
  if (viaGateway && gateway?.answer) {
    core.track(
      gateway.answer(sid).catch((error) => core.log.warn("Gateway answer failed", { sid, error })),
    );
  }
  return answered;
}

/** Registers `identity` so that `client:<identity>` can be rung. */
export async function registerClient(
  core: CallCore,
  identity: string,
  claim?: IdempotencyClaim,
): Promise<ClientRegistration> {
  const registration = { identity, registeredAt: new Date().toISOString() };
  const result = await core.guard.write(() =>
    core.store.putClient(registration, record(claim, registration))
  );
  if (!result.ok) throw conflict(result.conflict);
  return registration;
}

/** The registration of `identity`; {@linkcode ClientNotFoundError} when nobody registered it. */
export async function getClient(core: CallCore, identity: string): Promise<ClientRegistration> {
  const found = await core.guard.read(() => core.store.getClient(identity));
  if (!found) throw new ClientNotFoundError(identity);
  return found;
}

/** Calls now ringing `identity`. */
export async function ringing(core: CallCore, identity: string): Promise<Call[]> {
  const calls: Call[] = [];
  for (const sid of core.ringTimers.keys()) {
    const found = await core.guard.read(() => core.store.getCall(sid));
    const rung = found?.call.to === `client:${identity}` ||
      core.ringingClients.get(sid) === identity;
    if (found?.call.status === "ringing" && rung) {
      calls.push(found.call);
    }
  }
  return calls;
}

/**
 * How many live views of each track (`sid/name`) were reported: a track can be seen more than
 * once (a relay shard's copy of a track another shard owns, besides that shard's own report), and
 * it is live until the last view ends.
 */
const views = new WeakMap<CallCore, Map<string, number>>();

/** A voice track appeared in the relay: `media` events, and a client leg's answer or end. */
export function onTrack(
  core: CallCore,
  namespace: readonly string[],
  name: string,
  capability: string | undefined,
  closed: Promise<Error | undefined>,
): void {
  const sid = sidOf(namespace);
  if (!sid || (name !== "uplink" && name !== "downlink")) return;
  let counts = views.get(core);
  if (!counts) views.set(core, counts = new Map());
  const key = `${sid}/${name}`;
  const seen = counts.get(key) ?? 0;
  counts.set(key, seen + 1);
  closed.then((error) => {
    // The track ends with the last of its views (the one ending it says why).
    const left = counts.get(key)! - 1;
    if (left > 0) return void counts.set(key, left);
    counts.delete(key);
    const names = core.liveTracks.get(sid);
    names?.delete(name);
    if (names?.size === 0) core.liveTracks.delete(sid);
    emitMedia(core, sid, name, "ended", capability);
    if (name === "uplink" && !core.closed && !core.legs.has(sid)) {
      // The client's leg left: it hung up (the track says whether it ended cleanly).
      core.track(clientLeft(core, sid, error));
    }
  });
  if (seen > 0) return; // another view of a live track changes nothing
  let names = core.liveTracks.get(sid);
  if (!names) core.liveTracks.set(sid, names = new Set());
  names.add(name);
  emitMedia(core, sid, name, "published", capability);
  // Only a `client:` leg reports through its media; a gateway leg reports explicitly.
  if (name === "uplink" && !core.legs.has(sid) && core.ringTimers.has(sid)) {
    // The client's leg attached: its answer.
    core.track(core.advance(sid, "in_progress"));
  }
}

/**
 * The client's uplink ended: the track says why — cleanly (the client released its leg:
 * `caller_hangup`) or with an error (its session was lost: `connection_lost`).
 */
async function clientLeft(core: CallCore, sid: string, error: Error | undefined): Promise<void> {
  const reason: EndReason = error ? "connection_lost" : "caller_hangup";
  const ended = await core.advanceWith(
    sid,
    (call) =>
      call.status === "in_progress"
        ? step(call, "completed", reason)
        : new IllegalCallTransitionError(sid, call.status, "Not in progress"),
  );
  if (ended && error) core.log.info("The client's leg was lost", { sid, error: error.message });
}

function emitMedia(
  core: CallCore,
  sid: string,
  track: "uplink" | "downlink",
  state: "published" | "ended",
  capability?: string,
): void {
  core.events.emitCall({
    type: "media",
    sid,
    at: new Date().toISOString(),
    track,
    state,
    ...(capability ? { capability } : {}),
  });
}
