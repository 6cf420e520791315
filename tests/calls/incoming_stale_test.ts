import { assertEquals } from "@std/assert";
import { startServer } from "./_server.ts";
import { spawnServer } from "../_lib/server_process.ts";
import { readSse, Voice } from "../../src/sdk/mod.ts";

/** Waits on the call's event stream until it reaches `status`. */
async function reaches(voice: Voice, sid: string, status: string): Promise<void> {
  for await (const event of voice.calls.events(sid)) {
    if (event.type === "status" && event.call.status === status) return;
  }
  throw new Error(`Call ${sid} never reached ${status}`);
}

/**
 * Opens `identity`'s incoming stream, then rings it with a fresh call: returns the sid of the
 * first ring the stream delivers and the fresh call's. The stream's response headers mean the
 * server has taken its snapshot of ringing calls and listens, so the fresh ring cannot be missed.
 */
async function firstRingAfterRegister(
  baseUrl: string,
  token: string,
  identity: string,
): Promise<[string, string]> {
  const voice = new Voice({ baseUrl, token });
  const stop = new AbortController();
  const incoming = await fetch(`${baseUrl}/v1/clients/${identity}/incoming`, {
    headers: { authorization: `Bearer ${token}` },
    signal: stop.signal,
  });
  assertEquals(incoming.status, 200);
  const fresh = await voice.calls.originate({ from: "+14155550100", to: `client:${identity}` });
  try {
    for await (const message of readSse(incoming.body!)) {
      if (message.event === "ring") return [JSON.parse(message.data).call.sid, fresh.sid];
    }
    throw new Error("The incoming stream ended without a ring");
  } finally {
    stop.abort();
  }
}

Deno.test("a call left ringing past its ring timeout is not delivered to a client that registers later", async () => {
  await using fx = await startServer({ CLUTCHCALL_RING_TIMEOUT_MS: "300" });
  const voice = await fx.voice();
  await voice.clients.add("late");
  const stale = await voice.calls.originate({ from: "+14155550100", to: "client:late" });
  await reaches(voice, stale.sid, "no_answer");
  const [delivered, fresh] = await firstRingAfterRegister(fx.url, fx.token, "late");
  assertEquals(delivered, fresh, "the first ring is the fresh call, not the one that timed out");
});

Deno.test("a call ringing when the server was killed is not delivered to a client registering after the restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-stale-ring-" });
  try {
    {
      await using first = await spawnServer({ dataDir });
      const voice = new Voice({ baseUrl: first.listening.http, token: first.token! });
      await voice.clients.add("late");
      const call = await voice.calls.originate({ from: "+14155550100", to: "client:late" });
      await reaches(voice, call.sid, "ringing");
      first.child.kill("SIGKILL");
      await first.child.status;
    }
    await using second = await spawnServer({ dataDir });
    const [delivered, fresh] = await firstRingAfterRegister(
      second.listening.http,
      second.token!,
      "late",
    );
    assertEquals(
      delivered,
      fresh,
      "the first ring is the fresh call, not the one from the last run",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
