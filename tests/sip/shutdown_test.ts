/**
 * Shutdown of the real server process (started as the README says) with SIP calls in odd
 * states: SIGTERM must end every call and exit, whatever is pending on them.
 */
import { assert, assertEquals } from "@std/assert";
import { listeningSipPort, spawnServer } from "../_lib/server_process.ts";
import { callerArgs, haveSipp, scenario, spawnSipp } from "./_harness.ts";

/** Resolves with the exit status, or throws when the process has not exited in `ms`. */
async function exited(child: Deno.ChildProcess, ms: number): Promise<Deno.CommandStatus> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`The server did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([child.status, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("shutdown: SIGTERM after a transfer whose REFER got 202 but no NOTIFY ends the call (BYE) and the process exits", async () => {
  if (!haveSipp()) return;
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-sip-shutdown-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      sip: {
        // Port 0: the server binds one itself and says which (a port probed free here and
        // handed over could be taken by a test beside this one before the server binds it).
        listen: { host: "127.0.0.1", port: 0 },
        publicAddress: "127.0.0.1",
        trunks: [{
          name: "loop",
          // Never dialed: the transfer goes by REFER to the caller. Nothing listens on 9/udp.
          address: "127.0.0.1:9",
          allowFrom: ["127.0.0.1"],
          outboundNumbers: ["+1"],
        }],
        inbound: [{ match: "*", action: { plugin: "none" } }],
      },
    }),
  );
  await using server = await spawnServer({
    dataDir,
    configPath,
    args: ["--http-port", "0", "--moq-port", "0"],
  });
  const sipPort = listeningSipPort(server.listening);
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.listening.http}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
    });
  await using caller = spawnSipp(callerArgs(sipPort, ["-sf", scenario("uac_refer_no_notify.xml")]));
  let sid: string | undefined;
  for (let i = 0; !sid; i++) {
    const page = await (await api("/v1/calls")).json() as {
      calls: { sid: string; status: string }[];
    };
    sid = page.calls.find((c) => c.status === "in_progress")?.sid;
    if (i > 1200) throw new Error("The call never reached in_progress");
    if (!sid) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const transfer = await api(`/v1/calls/${sid}/transfer`, {
    method: "POST",
    body: JSON.stringify({ to: "+14155550123" }),
  });
  assertEquals(transfer.status, 200, await transfer.text());
  for (let i = 0; !server.lines.some((l) => l.includes("REFER accepted")); i++) {
    if (i > 1200) throw new Error(`No 202 to the REFER:\n${server.lines.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  server.child.kill("SIGTERM");
  const status = await exited(server.child, 30_000);
  assertEquals(status.code, 0, server.lines.slice(-20).join("\n"));
  const out = await caller.done;
  assertEquals(
    out.code,
    0,
    "sipp got the BYE: " + new TextDecoder().decode(out.stdout).slice(-1500),
  );
  assert(server.lines.some((l) => l.includes("Shutting down")));
  await Deno.remove(dataDir, { recursive: true });
});
