/**
 * Transfers. First by SIP REFER (RFC 3515): the far end is asked to call the target itself;
 * its NOTIFYs (sipfrag) report progress, and a 2xx there ends our leg `transferred`. When the
 * peer refuses the REFER, or its NOTIFY reports a failure, the gateway transfers on its side
 * (B2BUA): it dials the target as a new leg of the SAME call (same sid) whose media plays the
 * call's uplink to the target and publishes the target's audio on the call's downlink; the
 * call ends when either party hangs up.
 *
 * A transfer's promise settles in every case: when the transfer completes or fails, and when
 * the leg ends first (a REFER answered 202 whose NOTIFY never comes ends with the leg).
 *
 * @module
 */
import type { Core } from "sip.js";
import type { LegProgress, SipEndReason } from "./calls_port.ts";
import { SipError } from "./error.ts";
import type { SipLeg } from "./leg.ts";
import type { DialOptions } from "./outbound.ts";

/** What a transfer needs of the gateway (the gateway's runtime in production, fakes in tests). */
export interface TransferDeps {
  readonly log: {
    info(message: string, fields?: Record<string, unknown>): void;
  };
  /** The Request-URI `to` is dialed at (the Refer-To). */
  targetUri(to: string): Core.URI;
  /** Our address for Referred-By. */
  readonly publicAddress: string;
  /** Dials a B2BUA-side transfer's target as a leg of `sid`; undefined when it was aborted. */
  dial(
    call: { readonly sid: string; readonly from: string; readonly to: string },
    progress: LegProgress,
    options: DialOptions,
  ): Promise<SipLeg | undefined>;
  /** Ends `leg` with `reason` on our side (BYE once answered). */
  terminate(leg: SipLeg, reason: SipEndReason): Promise<void>;
}

/** The leg ended while its transfer was under way. */
function legEnded(sid: string): SipError {
  return new SipError(487, "Request Terminated", `The SIP leg of ${sid} ended during the transfer`);
}

/**
 * Transfers the far end of the confirmed `leg` to `to`: REFER first, the B2BUA-side transfer
 * when the peer refuses. Rejects with {@linkcode SipError} 481 when the leg is not confirmed,
 * 491 when a transfer is already under way, 487 when the leg ends first, or the target's
 * status when the B2BUA-side target does not answer.
 *
 * @example
 * ```ts ignore
 * await transfer(deps, leg, "+14155550123");
 * ```
 */
export function transfer(deps: TransferDeps, leg: SipLeg, to: string): Promise<void> {
  const state = leg.state;
  if (state.name !== "confirmed") {
    return Promise.reject(new SipError(481, "Call/Transaction Does Not Exist"));
  }
  if (state.transfer) {
    return Promise.reject(new SipError(491, "Request Pending", "A transfer is under way"));
  }
  let target: Core.URI;
  try {
    target = deps.targetUri(to);
  } catch (error) {
    return Promise.reject(error);
  }
  leg.transition({ ...state, transfer: { kind: "refer" } });
  const done = Promise.withResolvers<void>();
  const settleOnEnd = () => done.reject(legEnded(leg.sid));
  leg.ended.addEventListener("abort", settleOnEnd, { once: true });
  let fellBack = false;
  const fallback = (why: string) => {
    if (fellBack || leg.isTerminated) return;
    fellBack = true;
    deps.log.info("REFER refused; transferring on the gateway side", { sid: leg.sid, why });
    b2buaTransfer(deps, leg, to).then(done.resolve, (error) => {
      const now = leg.state;
      if (now.name === "confirmed") leg.transition({ ...now, transfer: undefined });
      done.reject(error);
    });
  };
  const session = state.session;
  session.delegate = {
    ...session.delegate,
    onNotify: (request) => {
      request.accept();
      const frag = String(request.message.body ?? "");
      const status = Number(/^SIP\/2\.0 (\d{3})/.exec(frag)?.[1] ?? 0);
      deps.log.info("REFER progress", { sid: leg.sid, status });
      if (status >= 200 && status < 300) {
        deps.log.info("REFER transfer completed", { sid: leg.sid, status });
        // The far end now talks to the target directly: our leg is done.
        leg.ended.removeEventListener("abort", settleOnEnd);
        void deps.terminate(leg, "transferred");
        done.resolve();
      } else if (status >= 300) fallback(`NOTIFY ${status}`);
    },
  };
  session.refer({
    onAccept: () => deps.log.info("REFER accepted; waiting for NOTIFY", { sid: leg.sid }),
    onReject: (response) => fallback(`REFER ${response.message.statusCode}`),
  }, {
    extraHeaders: [
      `Refer-To: <${target.toString()}>`,
      `Referred-By: <sip:clutchcall@${deps.publicAddress}>`,
      // RFC 3515 §2.4.1 / RFC 3261 §12.2.1.1: a REFER (a target refresh) carries a Contact.
      `Contact: ${leg.contact}`,
    ],
  });
  return done.promise.finally(() => leg.ended.removeEventListener("abort", settleOnEnd));
}

/**
 * The far end refused REFER: it stays connected to us, and the gateway dials `to` as a new
 * SIP leg of the same call. The new leg offers only the far end's codec, presents the far
 * end's identity as caller id, and its media is re-pointed at the call's tracks the other way
 * round (plays `uplink`, publishes `downlink`). Resolves when the target answers; rejects with
 * the target's SIP status when it does not (the original call goes on), or 487 when the
 * caller's leg ends first.
 */
async function b2buaTransfer(deps: TransferDeps, caller: SipLeg, to: string): Promise<void> {
  const answered = Promise.withResolvers<void>();
  // Awaited at the end; a rejection that comes while the target is still being dialed is
  // observed there, not an unhandled rejection.
  answered.promise.catch(() => undefined);
  const abort = new AbortController();
  let up = false;
  const progress: LegProgress = {
    ringing: () => Promise.resolve(),
    answered: () => {
      up = true;
      answered.resolve();
      deps.log.info("B2BUA transfer answered", { sid: caller.sid, to });
      return Promise.resolve();
    },
    ended: (reason, detail) => {
      const state = caller.state;
      if (state.name === "confirmed") caller.transition({ ...state, transfer: undefined });
      if (!up) {
        answered.reject(
          new SipError(detail?.sipStatus ?? 480, `Transfer target did not answer: ${reason}`),
        );
      } else if (state.name === "confirmed") {
        // The target hung up: the call is over for the far end too.
        void deps.terminate(caller, "caller_hangup");
      }
      return Promise.resolve();
    },
    digits: (digits) => caller.progress.digits?.(digits),
    signal: abort.signal,
  };
  // The caller's leg ending ends the target's dialing too (its finish hangs up a target that
  // is already recorded on it).
  caller.ended.addEventListener("abort", () => {
    abort.abort();
    answered.reject(legEnded(caller.sid));
  }, { once: true });
  const state = caller.state;
  const codec = state.name === "confirmed" ? state.audio.codec : undefined;
  const leg = await deps.dial(
    { sid: caller.sid, from: caller.remoteIdentity, to },
    progress,
    { codecs: codec ? [codec] : undefined, tracks: { publish: "downlink", play: "uplink" } },
  );
  const now = caller.state;
  if (!leg) throw legEnded(caller.sid);
  if (now.name !== "confirmed") {
    await deps.terminate(leg, "hangup");
    throw legEnded(caller.sid);
  }
  caller.transition({ ...now, transfer: { kind: "b2bua", target: leg } });
  await answered.promise;
}
