/**
 * Reconciliation after a restart: calls the previous run left live get a grace period for
 * their legs to reappear in the relay; those whose legs did not come back end with
 * `server_restart`.
 *
 * @module
 */
import type { Call } from "./call.ts";
import type { CallCore } from "./core.ts";

/** Reconciles the calls a previous run left live; not done until it has. */
export class Reconciler {
  readonly #core: CallCore;
  readonly #graceMs: number;
  readonly #when: Promise<unknown> | undefined;
  readonly #done = Promise.withResolvers<void>();
  #reconciling = true;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Waits `graceMs` from `when` (at once when unset) before ending calls whose legs are gone. */
  constructor(core: CallCore, graceMs: number, when: Promise<unknown> | undefined) {
    this.#core = core;
    this.#graceMs = graceMs;
    this.#when = when;
  }

  /** Whether reconciliation is still under way. */
  get reconciling(): boolean {
    return this.#reconciling;
  }

  /** Resolves once reconciled (at once when nothing was left live). */
  get done(): Promise<void> {
    return this.#done.promise;
  }

  /** Reads the calls left live and schedules their reconciliation. */
  async start(): Promise<void> {
    const core = this.#core;
    const live = await core.guard.read(() => core.store.liveCalls());
    if (live.length === 0) return this.stop();
    core.log.info("Reconciling calls left live by the previous run", { count: live.length });
    const schedule = () => {
      if (core.closed) return;
      this.#timer = setTimeout(
        () => core.track(this.#reconcile(live).finally(() => this.stop())),
        this.#graceMs,
      );
    };
    if (this.#when) core.track(this.#when.then(schedule));
    else schedule();
  }

  /** Done (reconciled, or the service closes): a pending reconciliation is dropped. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#reconciling = false;
    this.#done.resolve();
  }

  async #reconcile(live: readonly Call[]): Promise<void> {
    const core = this.#core;
    let ended = 0;
    for (const call of live) {
      if (core.liveTracks.has(call.sid)) {
        core.log.info("Call resumed after restart: its legs are back", { sid: call.sid });
        continue;
      }
      const status = call.status === "in_progress" ? "completed" : "failed";
      if (await core.advance(call.sid, status, "server_restart")) ended++;
    }
    core.log.info("Reconciled calls after restart", { live: live.length, ended });
  }
}
