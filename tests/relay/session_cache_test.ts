import { assert, assertEquals, assertRejects, assertStrictEquals } from "@std/assert";
import { SessionCache } from "../../src/relay/session_cache.ts";

/** An in-memory session: `end()` is the peer ending it, `close()` is ours. */
class FakeSession {
  readonly #ended = Promise.withResolvers<string>();
  readonly closed = this.#ended.promise;
  closes = 0;
  constructor(readonly peer: string, readonly serial: number) {}
  close(): void {
    this.closes++;
    this.#ended.resolve("closed here");
  }
  end(): void {
    this.#ended.resolve("ended by the peer");
  }
}

function cache() {
  const opens: string[] = [];
  const pending: { peer: string; resolve: (s: FakeSession) => void; reject: (e: Error) => void }[] =
    [];
  const sessions = new SessionCache((peer: string) => {
    opens.push(peer);
    const { promise, resolve, reject } = Promise.withResolvers<FakeSession>();
    pending.push({ peer, resolve, reject });
    return promise;
  });
  /** Settles the oldest opening still pending. */
  const settle = (fail?: Error) => {
    const next = pending.shift();
    if (!next) throw new Error("No session is opening");
    if (fail) next.reject(fail);
    else next.resolve(new FakeSession(next.peer, opens.length));
  };
  return { sessions, opens, settle };
}

Deno.test("SessionCache opens a peer's session once, also for callers while it opens", async () => {
  const { sessions, opens, settle } = cache();
  const a = sessions.get("b");
  const b = sessions.get("b");
  const other = sessions.get("c");
  assertEquals(opens, ["b", "c"]);
  settle();
  settle();
  assertStrictEquals(await a, await b);
  assert(await other !== await a);
  assertStrictEquals(await sessions.get("b"), await a);
  assertEquals(opens, ["b", "c"]);
  sessions.close();
});

Deno.test("SessionCache reopens a session the peer ended", async () => {
  const { sessions, opens, settle } = cache();
  const first = sessions.get("b");
  settle();
  (await first).end();
  await (await first).closed;
  const second = sessions.get("b");
  settle();
  assert(await second !== await first);
  assertEquals(opens, ["b", "b"]);
  sessions.close();
});

Deno.test("SessionCache tries again after an opening failed", async () => {
  const { sessions, opens, settle } = cache();
  const failed = sessions.get("b");
  settle(new Error("connection refused"));
  await assertRejects(() => failed, Error, "connection refused");
  const retried = sessions.get("b");
  settle();
  assertEquals((await retried).peer, "b");
  assertEquals(opens, ["b", "b"]);
  sessions.close();
});

Deno.test("SessionCache.forget closes the session, also one still opening", async () => {
  const { sessions, opens, settle } = cache();
  const open = sessions.get("b");
  settle();
  sessions.forget("b");
  assertEquals((await open).closes, 1);
  const opening = sessions.get("b");
  sessions.forget("b");
  settle();
  assertEquals((await opening).closes, 1);
  const again = sessions.get("b");
  settle();
  assertEquals((await again).closes, 0);
  assertEquals(opens, ["b", "b", "b"]);
  sessions.close();
});

Deno.test("SessionCache.close closes every session once and refuses new ones", async () => {
  const { sessions, settle } = cache();
  const b = sessions.get("b");
  const c = sessions.get("c");
  settle();
  settle();
  sessions.close();
  sessions.close();
  assertEquals([(await b).closes, (await c).closes], [1, 1]);
  await assertRejects(() => sessions.get("b"), Error, "the cache is closed");
});
