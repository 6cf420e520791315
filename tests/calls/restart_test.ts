import { assertEquals } from "@std/assert";
import { MoqClient } from "../../src/relay/client.ts";
import { createBridge } from "../../src/bridge/mod.ts";
import { Voice } from "../../src/sdk/mod.ts";
import { eventually } from "./_server.ts";
import { spawnServer } from "../_lib/server_process.ts";

/** Resolves with the first log line of `lines` (the process's stdout, as it grows) matching. */
async function logged(lines: string[], msg: string, ms = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (let seen = 0;;) {
    for (; seen < lines.length; seen++) {
      try {
        const record = JSON.parse(lines[seen]);
        if (record.msg === msg) return record;
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error; // not a JSON log line
      }
    }
    if (Date.now() > deadline) throw new Error(`The server never logged "${msg}"`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The real server process on `dataDir`, with the dev token it minted. */
async function spawn(dataDir: string, env: Record<string, string>) {
  const server = await spawnServer({ dataDir, env });
  return { ...server, token: server.token! };
}

Deno.test("after kill -9 and a restart, live calls end with server_restart unless their legs come back", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-calls-restart-" });
  // The grace starts once the restarted server listens; the resumed leg reconnects within it.
  const env = { CLUTCHCALL_RECONCILE_GRACE_MS: "3000" };
  const first = await spawn(dataDir, env);
  let second: Awaited<ReturnType<typeof spawn>> | undefined;
  const clients: MoqClient[] = [];
  try {
    const voice = new Voice({ baseUrl: first.listening.http, token: first.token });
    await voice.clients.add("gina");
    const answered = await voice.calls.originate({ from: "+14155550100", to: "client:gina" });
    const resumed = await voice.calls.originate({ from: "+14155550100", to: "client:gina" });
    const ringing = await voice.calls.originate({ from: "+14155550100", to: "client:gina" });
    for (const call of [answered, resumed, ringing]) {
      await eventually(async () =>
        (await voice.calls.get(call.sid)).status === "ringing" || undefined
      );
    }
    await voice.calls.answer(answered.sid);
    await voice.calls.answer(resumed.sid);

    first.child.kill("SIGKILL");
    await first.child.status;
    await first.pump;

    second = await spawn(dataDir, env);
    const after = new Voice({ baseUrl: second.listening.http, token: second.token });
    // Right after the restart the calls are still as they were (nothing half-written).
    assertEquals((await after.calls.get(answered.sid)).status, "in_progress");
    // One caller reconnects within the grace period: its call resumes.
    const cert = await Deno.readTextFile(`${dataDir}/tls/dev-cert.pem`);
    const client = await MoqClient.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(second.listening.moq).port),
      caCerts: [cert],
      token: second.token,
    });
    clients.push(client);
    await using leg = await createBridge(client).attachCaller({
      sid: resumed.sid,
      codec: "g711_ulaw",
    });
    leg.write(new Uint8Array(160));

    // Wait for the server's own signal that reconciliation finished (not for a status to
    // change: the calls are reconciled one after another).
    const reconciled = await logged(second.lines, "Reconciled calls after restart");
    assertEquals([reconciled.live, reconciled.ended], [3, 2]);
    const ended = await after.calls.get(answered.sid);
    assertEquals([ended.status, ended.endReason], ["completed", "server_restart"]);
    const ring = await after.calls.get(ringing.sid);
    assertEquals([ring.status, ring.endReason], ["failed", "server_restart"]);
    assertEquals((await after.calls.get(resumed.sid)).status, "in_progress");
    assertEquals(
      (await after.calls.list({ status: "in_progress" })).calls.map((c) => c.sid),
      [resumed.sid],
    );
  } finally {
    for (const client of clients) client.close();
    for (const proc of [first, second]) {
      if (!proc) continue;
      try {
        proc.child.kill("SIGKILL");
      } catch { /* exited */ }
      await proc.child.status;
      await proc.pump;
    }
    await Deno.remove(dataDir, { recursive: true });
  }
});
