/**
 * One session per peer, opened on first use and opened again once it closed: what a relay
 * keeps towards the peers it carries tracks to (a relay shard's links to the other shards, a
 * cluster node's cascade to the other nodes).
 *
 * @module
 */

/** What a {@linkcode SessionCache} holds: a session that says when it ends and can be closed. */
export interface CachedSession {
  /** Settles when the session ended, by either side. */
  readonly closed: Promise<unknown>;
  /** Ends the session. */
  close(): void;
}

/**
 * Sessions by peer key. {@linkcode SessionCache.get} opens a peer's session once and hands
 * every caller the same one (also while it is still opening); a session that closed, or whose
 * opening failed, is dropped, so the next `get` opens a new one.
 *
 * @example
 * ```ts
 * import { assert, assertEquals, assertStrictEquals } from "@std/assert";
 * import { SessionCache } from "@clutchcall/voice/relay";
 *
 * const opened: string[] = [];
 * using sessions = new SessionCache((peer: string) => {
 *   opened.push(peer);
 *   const { promise: closed, resolve } = Promise.withResolvers<void>();
 *   return Promise.resolve({ peer, closed, close: () => resolve() });
 * });
 * const first = await sessions.get("node-b");
 * assertStrictEquals(await sessions.get("node-b"), first); // opened once
 * first.close();
 * await first.closed;
 * assert(await sessions.get("node-b") !== first); // reopened after it closed
 * assertEquals(opened, ["node-b", "node-b"]);
 * ```
 */
export class SessionCache<K, S extends CachedSession> implements Disposable {
  readonly #open: (key: K) => Promise<S>;
  readonly #sessions = new Map<K, Promise<S>>();
  #closed = false;

  /** No session yet; `open` opens the session to a peer when it is first needed. */
  constructor(open: (key: K) => Promise<S>) {
    this.#open = open;
  }

  /**
   * The session to `key`: the open one, the one opening, or a new one. Rejects with the
   * opening's error (the next call tries again), or once the cache is closed.
   */
  get(key: K): Promise<S> {
    if (this.#closed) {
      return Promise.reject(new Error("Cannot open a session: the cache is closed"));
    }
    let session = this.#sessions.get(key);
    if (session) return session;
    const drop = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session = this.#open(key).then((opened) => {
      opened.closed.then(drop, drop);
      return opened;
    });
    this.#sessions.set(key, session);
    session.catch(drop);
    return session;
  }

  /** Closes the session to `key` (also one still opening) and drops it; the next `get` reopens. */
  forget(key: K): void {
    this.#sessions.get(key)?.then((session) => session.close(), () => undefined);
    this.#sessions.delete(key);
  }

  /** Closes every session; `get` rejects from now on. A second close is a no-op. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const key of [...this.#sessions.keys()]) this.forget(key);
  }

  /** Same as {@linkcode close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
