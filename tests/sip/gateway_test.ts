/**
 * The gateway as the composition root starts it: handed the calls control plane at
 * construction (no second phase), and closed within its grace period whatever is pending.
 */
import { assert, assertEquals } from "@std/assert";
import { createLogger } from "../../src/log/mod.ts";
import type { InboundCalls, LegProgress } from "../../src/sip/calls_port.ts";
import { parseSipConfig } from "../../src/sip/config.ts";
import { SipGateway } from "../../src/sip/gateway.ts";
import { signallingOnlyMedia } from "../../src/sip/media.ts";
import { callerArgs, haveSipp, spawnSipp } from "./_harness.ts";

Deno.test("gateway: close ends the legs and returns within its grace period even when a leg's end report never completes", async () => {
  if (!haveSipp()) return;
  const answered = Promise.withResolvers<void>();
  const endsReported: string[] = [];
  // A control plane whose store hangs: `ended` never resolves.
  const calls: InboundCalls = {
    admitInbound: (input) => {
      const progress: LegProgress = {
        ringing: () => Promise.resolve(),
        answered: () => (answered.resolve(), Promise.resolve()),
        ended: (reason) => {
          endsReported.push(reason);
          return new Promise(() => {});
        },
        signal: new AbortController().signal,
      };
      return Promise.resolve({ call: { sid: "CA-hang", ...input }, progress });
    },
    ringClient: () => Promise.resolve(false),
    transfer: () => Promise.resolve(undefined),
  };
  const logs: string[] = [];
  const gateway = await SipGateway.start({
    config: parseSipConfig({
      listen: { host: "127.0.0.1", port: 0 },
      publicAddress: "127.0.0.1",
      trunks: [{ name: "loop", address: "127.0.0.1:5999", allowFrom: ["127.0.0.1"] }],
      inbound: [{ match: "*", action: { plugin: "none" } }],
    }),
    media: signallingOnlyMedia,
    log: createLogger({ level: "info", json: true, sink: (line) => logs.push(line) }),
    calls,
    t1: 100,
  });
  // Answered from its first INVITE: nothing to attach after start.
  await using _caller = spawnSipp(callerArgs(gateway.port, ["-sn", "uac", "-d", "20000"]));
  await answered.promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<"hung">((resolve) => timer = setTimeout(() => resolve("hung"), 20_000));
  const closed = await Promise.race([gateway.close(300).then(() => "closed" as const), bound]);
  clearTimeout(timer);
  assertEquals(closed, "closed");
  assertEquals(endsReported, ["hangup"]);
  assert(logs.some((l) => l.includes("still ending at shutdown")), logs.join("\n"));
  await gateway.close(); // a second close is a no-op
});
