/**
 * A call store whose writes fail while `failing` is set, as a full disk or a KV error would
 * (the driver's message names a path, so a test can check that it never leaks). Reads pass.
 *
 * @module
 */
import type { CallStore } from "../../src/calls/store.ts";
import type { KvCallStore } from "../../src/calls/kv_store.ts";

/** A store whose writes fail while `failing` is set (as a full disk or a KV error would). */
export class FlakyStore implements CallStore {
  failing = false;
  writesRefused = 0;
  constructor(readonly inner: KvCallStore) {}
  #refuse(): void {
    if (!this.failing) return;
    this.writesRefused++;
    throw new Error("database or disk is full (SQLITE_FULL) at /secret/path/calls.kv");
  }
  getCall(sid: string) {
    return this.inner.getCall(sid);
  }
  putCall(...args: Parameters<CallStore["putCall"]>) {
    this.#refuse();
    return this.inner.putCall(...args);
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
