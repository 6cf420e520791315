/**
 * A node cut off from Redis while its process lives: the others end its calls
 * (`failed`/`node_lost`) once its lease expires, and it must release those calls' legs (BYE
 * to the far end, RTP ports freed) rather than keep media running for calls the cluster
 * already declared lost. It fences itself once its lease ran out by its own clock, whether or
 * not another node is up, and whether or not it ever reaches Redis again.
 */
import { assertEquals } from "@std/assert";
import { requireOrSkip } from "../_lib/env.ts";
import { hasRedis, startRedis } from "../_lib/redis.ts";
import {
  type ClusterNodeProcess,
  isStatus,
  nextMatching,
  sippUas,
  sipTrunkSection,
  startNode,
  startSippUas,
} from "./_cluster.ts";
import { startTcpProxy } from "./_tcp_proxy.ts";
import { haveSipp, sippListening } from "../sip/_harness.ts";

const available = hasRedis() && haveSipp();
if (!available) requireOrSkip(false, "redis-server or sipp is not installed: the test skips");

/**
 * An even port whose pair (port, port + 1) is free on UDP now: room for one call's RTP. Drawn
 * from 10000–13999, where nothing else in the suite binds (a port probed free can be taken
 * before B binds it: not the kernel's ephemeral ports, 32768–60999, nor the servers' default
 * RTP range, 20000–29999, as before).
 */
function freePortPair(): number {
  for (;;) {
    const port = 10_000 + 2 * Math.floor(Math.random() * 2000);
    try {
      const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port });
      const b = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: port + 1 });
      a.close();
      b.close();
      return port;
    } catch (error) {
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
}

/** `promise`, or a rejection naming `what` after 30 s. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within 30 s`)), 30_000);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * B's SIP call, then B cut off from Redis while A is up: A ends B's call `node_lost` once B's
 * lease expired; B, fenced, has released the leg while still cut off; back on Redis, B is
 * ready again and its RTP range (one pair) serves a new call.
 */
async function partitionWithPeer(): Promise<void> {
  await using redis = await startRedis();
  await using proxy = startTcpProxy({ hostname: "127.0.0.1", port: redis.port });
  const first = await startSippUas();
  const uasPort = first.port;
  const rtp = freePortPair();
  await using a = await startNode(redis, "node-a");
  // B reaches Redis only through the proxy; its RTP range holds one call.
  await using b = await startNode(redis, "node-b", {
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    file: {
      sip: sipTrunkSection(uasPort, { rtpPortRange: [rtp, rtp + 1] }),
    },
  });
  const stop = new AbortController();
  try {
    const call = await b.voice.calls.originate({ from: "+14155550100", to: "+14155550123" });
    const events = a.voice.calls.events(call.sid, { signal: stop.signal });
    await nextMatching(events, isStatus("in_progress"));

    // Cut B off: A ends B's call once B's lease expires.
    proxy.cut();
    const lost = await nextMatching(events, isStatus("failed"));
    assertEquals(lost.type === "status" && lost.call.endReason, "node_lost");
    // B, its lease run out (A reaped its call), takes no new call: it would be reaped too.
    await assertRefusesOriginates(b);
    // Still cut off, B has released the leg (sipp's UAS ends only on a BYE).
    const done = await within(first.done, "sipp's first call got no BYE while B was cut off");
    assertEquals(done.code, 0, new TextDecoder().decode(done.stderr));
    proxy.restore();

    // B is back once it is ready (its lease renewed: a call it took before would be reaped as
    // lost, its node having no lease).
    await within(
      eventually(async () => {
        const response = await fetch(`${b.http}/readyz`);
        await response.body?.cancel();
        if (!response.ok) throw new Error("B is not ready");
      }),
      "B was not ready again",
    );
    // The leg's RTP ports are free: a new call through B gets the range's only pair.
    await using second = sippUas(uasPort);
    await sippListening(uasPort);
    const next = await b.voice.calls.originate({ from: "+14155550100", to: "+14155550124" });
    const nextEvents = a.voice.calls.events(next.sid, { signal: stop.signal });
    await nextMatching(nextEvents, isStatus("in_progress"));
    const ended = await a.voice.calls.hangup(next.sid);
    assertEquals([ended.status, ended.endReason], ["completed", "hangup"]);
    const secondDone = await within(second.done, "sipp's second call got no BYE");
    assertEquals(secondDone.code, 0, new TextDecoder().decode(secondDone.stderr));
  } finally {
    stop.abort();
    await first[Symbol.asyncDispose]();
  }
}

/**
 * B alone (no other node to vouch that Redis is up), its SIP call in progress, then cut off
 * from Redis: once its lease ran out by its own clock B fences itself — the leg gets
 * its BYE, `/readyz` says not ready, originates are refused — while still cut off (before, it
 * kept the leg for as long as the cut lasted). Reachable again, its store has the call ended.
 */
async function partitionAlone(): Promise<void> {
  await using redis = await startRedis();
  await using proxy = startTcpProxy({ hostname: "127.0.0.1", port: redis.port });
  await using first = await startSippUas();
  const uasPort = first.port;
  await using b = await startNode(redis, "node-b", {
    redisUrl: `redis://127.0.0.1:${proxy.port}`,
    file: { sip: sipTrunkSection(uasPort) },
  });
  const stop = new AbortController();
  try {
    const call = await b.voice.calls.originate({ from: "+14155550100", to: "+14155550123" });
    const events = b.voice.calls.events(call.sid, { signal: stop.signal });
    await nextMatching(events, isStatus("in_progress"));

    proxy.cut(); // never restored
    const done = await within(first.done, "sipp's call got no BYE from the isolated node");
    assertEquals(done.code, 0, new TextDecoder().decode(done.stderr));
    const ready = await fetch(`${b.http}/readyz`);
    await ready.body?.cancel();
    assertEquals(ready.status, 503);
    await assertRefusesOriginates(b);

    // Reachable again at last, B has the call ended in the store (not in progress, legless).
    proxy.restore();
    await within(
      eventually(async () => {
        const found = await b.voice.calls.get(call.sid);
        if (found.status === "in_progress") throw new Error("still in progress");
        return found;
      }),
      "the fenced call was not ended in the store once B was back",
    );
  } finally {
    stop.abort();
  }
}

/** `node` answers an originate with 503 node-not-ready. */
async function assertRefusesOriginates(node: ClusterNodeProcess): Promise<void> {
  const refused = await node.fetch("/v1/calls", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ from: "+14155550100", to: "+14155550125" }),
  });
  assertEquals(refused.status, 503);
  assertEquals((await refused.json()).type.split("/").pop(), "node-not-ready");
}

/** Retries `op` until it succeeds (B reconnecting after the cut): bounded by `within`. */
async function eventually<T>(op: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await op();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

Deno.test({
  name:
    "a node cut off from Redis while another node is up releases its legs while still cut off (BYE sent, RTP ports freed); its calls end node_lost; back, it takes calls again",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: partitionWithPeer,
});

Deno.test({
  name:
    "a node cut off from Redis with no other node fences itself once its lease ran out, still cut off: BYE sent, not ready, originates refused; back, its call is ended in the store",
  ignore: !available,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: partitionAlone,
});
