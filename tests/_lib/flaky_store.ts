/**
 * A call store whose writes fail while `failing` is set, as a full disk or a KV error would
 * (the driver's message names a path, so a test can check that it never leaks). Reads pass.
 *
 * @module
 */
import type { CallStore } from "../../src/calls/store.ts";
import type { KvCallStore } from "../../src/calls/kv_store.ts";

/**
 * A store whose writes fail while `failing` is set (as a full disk or a KV error would), and
 * whose call writes wait while it {@linkcode FlakyStore.lag}s (as a store behind on its
 * commits under load).
 */
export class FlakyStore implements CallStore {
  failing = false;
  writesRefused = 0;
  /** Call writes waiting for the lag to end. */
  writesWaiting = 0;
  #lag: PromiseWithResolvers<void> | undefined;
  #waiting = Promise.withResolvers<void>();
  constructor(readonly inner: KvCallStore) {}

  /** From now on call writes wait until {@linkcode FlakyStore.catchUp}. */
  lag(): void {
    this.#lag ??= Promise.withResolvers<void>();
  }

  /** Lets the waiting call writes through (in order), and later ones at once. */
  catchUp(): void {
    this.#lag?.resolve();
    this.#lag = undefined;
  }

  /** Resolves once `count` call writes wait on the lag. */
  async waitingWrites(count: number): Promise<void> {
    while (this.writesWaiting < count) await this.#waiting.promise;
  }
  #refuse(): void {
    if (!this.failing) return;
    this.writesRefused++;
    throw new Error("database or disk is full (SQLITE_FULL) at /secret/path/calls.kv");
  }
  getCall(sid: string) {
    return this.inner.getCall(sid);
  }
  async putCall(...args: Parameters<CallStore["putCall"]>) {
    const lag = this.#lag;
    if (lag) {
      this.writesWaiting++;
      this.#waiting.resolve();
      this.#waiting = Promise.withResolvers<void>();
      await lag.promise;
      this.writesWaiting--;
    }
    this.#refuse();
    return await this.inner.putCall(...args);
  }
  listCalls(...args: Parameters<CallStore["listCalls"]>) {
    return this.inner.listCalls(...args);
  }
  liveCalls() {
    return this.inner.liveCalls();
  }
  getIdempotency(key: string) {
    return this.inner.getIdempotency(key);
  }
  putIdempotency(...args: Parameters<CallStore["putIdempotency"]>) {
    this.#refuse();
    return this.inner.putIdempotency(...args);
  }
  putClient(...args: Parameters<CallStore["putClient"]>) {
    this.#refuse();
    return this.inner.putClient(...args);
  }
  getClient(identity: string) {
    return this.inner.getClient(identity);
  }
  deleteClient(identity: string) {
    return this.inner.deleteClient(identity);
  }
  probeWrite() {
    this.#refuse();
    return this.inner.probeWrite();
  }
  close() {
    this.inner.close();
  }
  [Symbol.asyncDispose]() {
    this.close();
    return Promise.resolve();
  }
}
