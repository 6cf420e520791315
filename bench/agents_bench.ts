/**
 * Agent calls: CPU per call and the latencies of turn detection and barge-in, in one process
 * against a baseline in the same run.
 *
 * - CPU: N calls, each a caller leg (attachCaller on an in-process origin) speaking
 *   turns-8k.wav looped in real time. Baseline: the uplinks only drained. Agents: each call
 *   bound to a media-streams agent (the engine's bridge, VAD, playout, downlink and the
 *   WebSocket to a bot in its own process, `bench/agents_bot_sink.ts`, so only the engine's
 *   CPU is counted). Twice: a G.711 µ-law leg (no transcoding) and an Opus leg (Opus ↔ µ-law
 *   for the bot).
 * - Latency, one call with `builtin:echo` fed the fixture once: turn end (the last voiced
 *   frame of utterance 1 written → the agent told; the default 500 ms of silence included)
 *   and barge-in (utterance 2's first voiced frame written, over the echo → the downlink
 *   silent; the 400 ms commit included).
 *
 * `deno run -A --unstable-net bench/agents_bench.ts [--calls 20] [--seconds 20]`
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { attachCaller } from "../src/bridge/mod.ts";
import { decodeUlaw, encodeUlaw } from "../src/codecs/g711.ts";
import { decodeWav } from "../src/codecs/wav.ts";
import { createLogger } from "../src/log/mod.ts";
import { Origin } from "../src/relay/model/mod.ts";
import {
  type AgentAdapter,
  AgentSession,
  loadModuleAgent,
  mediaStreamsAdapter,
  type SessionReports,
} from "../src/agents/mod.ts";
import { startSinkProcess } from "./_sink_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { calls: { type: "string", default: "20" }, seconds: { type: "string", default: "20" } },
});
const CALLS = Number(values.calls);
const SECONDS = Number(values.seconds);
const speech =
  decodeWav(Deno.readFileSync(new URL("../tests/fixtures/turns-8k.wav", import.meta.url)))
    .samples;
const frames: Uint8Array[] = [];
for (let i = 0; i + 160 <= speech.length; i += 160) {
  frames.push(encodeUlaw(speech.subarray(i, i + 160)));
}
const log = createLogger({ level: "error", json: true, sink: () => {} });
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
const reports = (over: Partial<SessionReports> = {}): SessionReports => ({
  turn() {},
  interruption() {},
  ended() {},
  hangup: () => Promise.resolve(),
  digits: () => Promise.resolve(),
  transfer: () => Promise.resolve(),
  ...over,
});

async function startBot() {
  const sink = await startSinkProcess(new URL("./agents_bot_sink.ts", import.meta.url));
  return { url: `ws://127.0.0.1:${sink.port}/media`, stop: () => sink.stop() };
}

/** N calls for SECONDS; with `adapter`, each bound to an agent. Process CPU µs over the window. */
async function run(mode: "g711" | "opus", adapter: AgentAdapter | undefined) {
  const origin = new Origin();
  const sids = Array.from({ length: CALLS }, (_, i) => `CAagent${mode}${i}`);
  const callers = await Promise.all(sids.map((sid) =>
    attachCaller(origin, {
      sid,
      codec: "g711_ulaw",
      publishCodec: mode === "opus" ? "opus" : "g711_ulaw",
      maxLatencyMs: 1000,
    })
  ));
  const drains: Promise<void>[] = [];
  const sessions: AgentSession[] = [];
  // The first frame publishes the uplinks (what the agents attach to).
  for (const c of callers) c.write(frames[0], nowMicros());
  if (adapter) {
    for (const sid of sids) {
      sessions.push(
        await AgentSession.open({
          via: origin,
          sid,
          agent: "bench",
          adapter,
          call: { from: "+14155550100", to: "+14155550123", direction: "inbound" },
          parameters: {},
          log,
          reports: reports(),
        }),
      );
    }
  } else {
    for (const sid of sids) {
      const reader = await origin.subscribe(["voice", sid], "uplink");
      drains.push((async () => {
        for (let g = await reader.nextGroup(); g; g = await reader.nextGroup()) {
          while (await g.readObject());
        }
      })());
    }
  }
  // Callers read their downlink (silence in the baseline: nothing is published).
  for (const c of callers) {
    (async () => {
      for await (const _ of c) { /* drained */ }
    })();
  }
  const t0 = performance.now();
  const c0 = cpu();
  const total = SECONDS * 50;
  for (let k = 1; k <= total; k++) {
    const at = nowMicros();
    for (let i = 0; i < CALLS; i++) callers[i].write(frames[(k + i * 37) % frames.length], at);
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const cpuUs = cpu() - c0;
  const wallMs = performance.now() - t0;
  const heapMiB = Deno.memoryUsage().heapUsed / 2 ** 20;
  for (const s of sessions) await s.close("detached");
  for (const c of callers) c.close();
  await Promise.allSettled(drains);
  return { cpuUs, wallMs, heapMiB };
}

/** One echo call fed the fixture once: turn-end and barge-in latencies, ms. */
async function latencies() {
  const origin = new Origin();
  const sid = "CAagentlatency";
  const caller = await attachCaller(origin, { sid, codec: "g711_ulaw", maxLatencyMs: 1000 });
  caller.write(frames[0], nowMicros());
  const written: number[] = []; // wall ms each fixture frame was written
  let toldAt: number | undefined;
  let cutAt: number | undefined;
  const session = await AgentSession.open({
    via: origin,
    sid,
    agent: "echo",
    adapter: await loadModuleAgent({ type: "module", module: "builtin:echo" }),
    call: { from: "+14155550100", to: "+14155550123", direction: "inbound" },
    parameters: {},
    log,
    reports: reports({
      turn: (state) => {
        if (state === "end") toldAt ??= performance.now();
      },
      interruption: () => void (cutAt ??= performance.now()),
    }),
  });
  // The downlink: when it goes silent after the cut (wall ms of the first silent frame).
  let silentAt: number | undefined;
  const listening = (async () => {
    for await (const frame of caller) {
      if (cutAt === undefined || silentAt !== undefined) continue;
      const pcm = decodeUlaw(frame.payload);
      let peak = 0;
      for (const s of pcm) peak = Math.max(peak, Math.abs(s));
      if (peak < 300) silentAt = performance.now();
    }
  })();
  const t0 = performance.now();
  for (let k = 1; k < frames.length; k++) {
    caller.write(frames[k], nowMicros());
    written[k] = performance.now();
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  // The fixture: utterance 1's last voiced 20 ms frame ends at 6.10 s (frame 304); utterance 2
  // starts at about 8.0 s (frame 400: its first frame over 300 RMS, found below).
  let onset = 400;
  for (let k = 380; k < 440; k++) {
    const f = speech.subarray(k * 160, (k + 1) * 160);
    if (Math.sqrt(f.reduce((a, s) => a + s * s, 0) / 160) > 300) {
      onset = k;
      break;
    }
  }
  await session.close("detached");
  caller.close();
  await listening;
  return {
    turnEndMs: toldAt === undefined ? NaN : toldAt - written[304],
    bargeInCommitMs: cutAt === undefined ? NaN : cutAt - written[onset],
    bargeInSilentMs: silentAt === undefined ? NaN : silentAt - written[onset],
  };
}

const pct = (cpuUs: number, wallMs: number) => (cpuUs / 1000 / wallMs) * 100;
console.log(`agents bench: ${CALLS} calls × ${SECONDS} s, Deno ${Deno.version.deno}`);
for (const mode of ["g711", "opus"] as const) {
  const bot = await startBot();
  const base = await run(mode, undefined);
  const agents = await run(mode, mediaStreamsAdapter({ type: "media-streams", url: bot.url }));
  const stats = await bot.stop();
  const basePct = pct(base.cpuUs, base.wallMs), agentPct = pct(agents.cpuUs, agents.wallMs);
  const perCall = (agentPct - basePct) / CALLS;
  console.log(
    `media-streams on ${mode === "g711" ? "a G.711 µ-law leg" : "an Opus leg"}: baseline ${
      basePct.toFixed(1)
    }% of a core, with agents ${agentPct.toFixed(1)}%; an agent adds ${
      perCall.toFixed(3)
    }% of a core per call → ~${Math.floor(100 / perCall)} agent calls per core; heap ${
      base.heapMiB.toFixed(1)
    } → ${agents.heapMiB.toFixed(1)} MiB; bot ${JSON.stringify(stats)}`,
  );
}
const l = await latencies();
console.log(
  `latency (builtin:echo, fvad): turn end → agent told ${l.turnEndMs.toFixed(0)} ms (500 ms ` +
    `endpointing included); barge-in onset → committed ${l.bargeInCommitMs.toFixed(0)} ms ` +
    `(400 ms of speech included), → downlink silent ${l.bargeInSilentMs.toFixed(0)} ms`,
);
