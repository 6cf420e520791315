/**
 * Digest authentication (RFC 3261 §22, RFC 2617) against a real sipp UAS: the trunk
 * challenges the INVITE with 401 or 407, and the gateway re-sends it with the trunk's
 * credentials. For 401 sipp's `verifyauth` checks the digest (a wrong one gets 403); sipp's
 * `verifyauth` reads only `Authorization`, so for 407 sipp logs the `Proxy-Authorization` it
 * got and the test recomputes the digest.
 */
import { createHash } from "node:crypto";
import { assertEquals } from "@std/assert";
import type { Fixture } from "./_harness.ts";
import { hangUp, haveSipp, originate, scenario, spawnSippUas, startGateway } from "./_harness.ts";

const trunk = (port: number, password: string) => ({
  trunks: [{
    name: "auth",
    address: `127.0.0.1:${port}`,
    allowFrom: ["127.0.0.1"],
    outboundNumbers: ["+1"],
    credentials: { username: "acct", password },
  }],
});

const uas = (file: string, ...more: string[]) =>
  spawnSippUas(["-sf", scenario(file), "-m", "1", ...more]);

/** Originates, waits for in_progress, hangs up: the call must complete. */
async function callThrough(fx: Fixture): Promise<void> {
  const call = await originate(fx);
  const ended = await hangUp(fx, call.sid);
  assertEquals(ended.endReason, "hangup");
  assertEquals(fx.statuses(call.sid), ["dialing", "in_progress", "completed"]);
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

Deno.test("digest auth: a 401 (WWW-Authenticate) to the INVITE is answered with the trunk's credentials and the call goes through", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("uas_auth_401.xml");
  await using fx = await startGateway({ sip: trunk(peer.port, "secret") });
  await callThrough(fx);
  const out = await peer.done;
  // sipp exits 0 only when verifyauth accepted the re-sent INVITE and the BYE came.
  assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));
});

Deno.test("digest auth: a wrong password after a 401 is refused by the trunk and the call fails with its status", async () => {
  if (!haveSipp()) return;
  await using peer = await uas("uas_auth_401.xml");
  await using fx = await startGateway({ sip: trunk(peer.port, "wrong") });
  const ended = await originate(fx, { until: "failed" });
  assertEquals(ended.sipStatus, 403);
  // The scenario's refusal path ends in a failed sipp call: verifyauth saw a bad digest.
  assertEquals((await peer.done).code !== 0, true);
});

Deno.test("digest auth: a 407 (Proxy-Authenticate) to the INVITE is answered with Proxy-Authorization from the trunk's credentials and the call goes through", async () => {
  if (!haveSipp()) return;
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-auth-" });
  try {
    const logFile = `${dir}/sipp.log`;
    await using peer = await uas("uas_auth_407.xml", "-trace_logs", "-log_file", logFile);
    await using fx = await startGateway({ sip: trunk(peer.port, "secret") });
    await callThrough(fx);
    const out = await peer.done;
    assertEquals(out.code, 0, new TextDecoder().decode(out.stdout).slice(-1500));

    const header = /Proxy-Authorization: (Digest [^\r\n]*)/.exec(await Deno.readTextFile(logFile))
      ?.[1];
    const params = Object.fromEntries(
      [...(header ?? "").matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((
        m,
      ) => [m[1], m[2] ?? m[3]]),
    );
    assertEquals(
      [params.username, params.realm, params.nonce, params.uri],
      [
        "acct",
        "clutchcall.test",
        "4f1c0c7d9a2b44e5b2f0e9d1c3a7b6e8",
        `sip:+14155550123@127.0.0.1:${peer.port}`,
      ],
      header,
    );
    // RFC 2617 §3.2.2.1 (no qop offered): MD5(HA1:nonce:HA2).
    const ha1 = md5(`acct:clutchcall.test:secret`);
    const ha2 = md5(`INVITE:${params.uri}`);
    assertEquals(params.response, md5(`${ha1}:${params.nonce}:${ha2}`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
