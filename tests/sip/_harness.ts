/**
 * A SIP gateway wired to a real CallService (Deno KV in a temp dir) and an in-process
 * Origin, plus helpers to run sipp against it.
 *
 * @module
 */
import { Origin } from "../../src/relay/model/origin.ts";
import type { MoqObject, TrackInfo } from "../../src/relay/model/mod.ts";
import { CallService } from "../../src/calls/service.ts";
import { KvCallStore } from "../../src/calls/kv_store.ts";
import type { CallStore } from "../../src/calls/store.ts";
import type { Call } from "../../src/calls/call.ts";
import type { CallEvent } from "../../src/calls/events.ts";
import { createLogger } from "../../src/log/mod.ts";
import { parseSipConfig } from "../../src/sip/config.ts";
import { forwardingGateway, SipGateway } from "../../src/sip/gateway.ts";
import {
  type MediaLegFactory,
  type MediaParameters,
  signallingOnlyMedia,
} from "../../src/sip/media.ts";
import { pathExists, requireOrSkip } from "../_lib/env.ts";
import { boundSockets } from "../_lib/bound_ports.ts";

/** True when sipp is installed (else the test is skipped, or fails under CI). */
export function haveSipp(): boolean {
  return requireOrSkip(pathExists("/usr/bin/sipp"), "sipp (Debian sip-tester) is not installed");
}

/** The bytes of `parts` one after another (a track's payloads as one G.711 stream). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A free UDP port on loopback. */
export function freeUdpPort(): number {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  socket.close();
  return port;
}

export interface Fixture extends AsyncDisposable {
  readonly gateway: SipGateway;
  readonly calls: CallService;
  readonly origin: Origin;
  readonly port: number;
  /** Every call event, in order. */
  readonly events: CallEvent[];
  readonly logs: string[];
  statuses(sid: string): string[];
  waitFor(check: () => Call | undefined | Promise<Call | undefined>, ms?: number): Promise<Call>;
}

/** Starts a gateway; `sip` is merged into a config with one loopback trunk. */
export async function startGateway(
  options: {
    sip?: Record<string, unknown>;
    media?: (origin: Origin) => MediaLegFactory;
    uasPort?: number;
    /** The admission clock (a frozen one makes rate limits exact under any load). */
    now?: () => number;
    /** Wraps the KV store the calls service writes to (e.g. a `FlakyStore`). */
    store?: (kv: KvCallStore) => CallStore;
  } = {},
): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-sip-" });
  const logs: string[] = [];
  const log = createLogger({
    level: Deno.env.get("SIP_LOG") ? "debug" : "info",
    json: true,
    sink: (line) => {
      logs.push(line);
      if (Deno.env.get("SIP_LOG")) console.error(line);
    },
  });
  const config = parseSipConfig({
    listen: { host: "127.0.0.1", port: 0 },
    publicAddress: "127.0.0.1",
    trunks: [{
      name: "loop",
      address: `127.0.0.1:${options.uasPort ?? 5999}`,
      allowFrom: ["127.0.0.1"],
      outboundNumbers: ["+1"],
    }],
    inbound: [{ match: "*", action: { agent: "test-agent" } }],
    ringTimeoutMs: 3000,
    ...options.sip,
  });
  const origin = new Origin();
  const store = await KvCallStore.open(`${dir}/calls.kv`);
  const late: { sip?: SipGateway } = {};
  const calls = new CallService({
    store: options.store?.(store) ?? store,
    origin,
    log,
    gateway: forwardingGateway(() => late.sip),
  });
  await calls.start();
  const gateway = late.sip = await SipGateway.start({
    config,
    media: options.media?.(origin) ?? signallingOnlyMedia,
    log: log.child({ component: "sip" }),
    t1: 100,
    calls,
    now: options.now,
  });
  const events: CallEvent[] = [];
  calls.events.onAnyCall((e) => events.push(e));
  const close = async () => {
    await gateway.close();
    await calls.close();
    store.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    gateway,
    calls,
    origin,
    port: gateway.port,
    events,
    logs,
    statuses: (sid) =>
      events.filter((e) => e.type === "status" && e.sid === sid).map((e) =>
        (e as { call: Call }).call.status
      ),
    async waitFor(check, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error("Timed out waiting for the call");
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  } as Fixture;
}

/** Runs sipp to completion (or kills it after `timeoutMs`). */
export async function sipp(
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command("/usr/bin/sipp", {
    args: [...args, "-nostdin", "-trace_err", "-error_file", "/dev/stderr"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** A running sipp, killed on dispose. */
export interface SippProcess extends AsyncDisposable {
  readonly pid: number;
  readonly done: Promise<Deno.CommandOutput>;
}

/** A running sipp (UAS), killed on dispose. */
export function spawnSipp(args: string[]): SippProcess {
  const child = new Deno.Command("/usr/bin/sipp", {
    // Unexpected messages go to stderr: a failing test's `done` says why.
    args: [...args, "-nostdin", "-trace_err", "-error_file", "/dev/stderr"],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const done = child.output();
  return {
    pid: child.pid,
    done,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
      await done;
    },
  };
}

/** A sipp UAS and the SIP port it bound. */
export interface SippUas extends SippProcess {
  /** The port sipp's SIP socket is bound to on 127.0.0.1 (UDP, or TCP with `transport: "tcp"`). */
  readonly port: number;
}

/**
 * Starts sipp as a UAS on 127.0.0.1 with `args` (scenario, `-m`, media flags; not `-i`/`-p`/`-t`)
 * and resolves once its SIP socket is bound, with the port. sipp is given `-p 0` and binds the
 * port itself (it tries 5060…5119, then one the kernel picks), so no port found free earlier can
 * be taken by a test beside it before sipp binds it; the port is read back from `/proc`. sipp
 * opens its SIP socket before its media and control sockets, so it is the bound socket with the
 * lowest file descriptor. Rejects with sipp's output if sipp exits first.
 */
export async function spawnSippUas(
  args: string[],
  { transport = "udp" }: { transport?: "udp" | "tcp" } = {},
): Promise<SippUas> {
  const peer = spawnSipp([
    ...args,
    ...(transport === "tcp" ? ["-t", "t1"] : []),
    "-i",
    "127.0.0.1",
    "-p",
    "0",
  ]);
  let exited: Deno.CommandOutput | undefined;
  peer.done.then((out) => exited = out, () => {});
  try {
    for (let attempt = 0;; attempt++) {
      const main = (await boundSockets(peer.pid, transport)).find((s) => s.host === "127.0.0.1");
      if (main) return { ...peer, port: main.port };
      if (exited) {
        const d = new TextDecoder();
        throw new Error(
          `sipp exited (${exited.code}) before binding its SIP port: ${
            (d.decode(exited.stderr) + d.decode(exited.stdout)).slice(-1500)
          }`,
        );
      }
      if (attempt > 600) throw new Error(`sipp bound no ${transport} SIP port in 15 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * A sipp UAS for one call that answers with PCMA and echoes the RTP it gets (its media port
 * its own: `-mp 0`, the first free of 6000, 6002, …).
 */
export function spawnEchoUas(): Promise<SippUas> {
  return spawnSippUas(["-sf", scenario("uas_answer_pcma.xml"), "-m", "1", "-mp", "0", "-rtp_echo"]);
}

/** A scenario file's path. */
export function scenario(name: string): string {
  return new URL(`./scenarios/${name}`, import.meta.url).pathname;
}

/**
 * sipp arguments for one call from the trunk (127.0.0.1, caller +14155550199) into the gateway
 * on `port`: `call` selects the scenario (`["-sf", scenario(...)]` or `["-sn", "uac"]`) plus any
 * extra flags; RTP goes out from `mediaPort` [0: sipp binds its own, trying 6000, 6002, … until a
 * bind succeeds, so no port found free earlier can be taken by a test beside it in between].
 */
export function callerArgs(port: number, call: string[], mediaPort = 0): string[] {
  return [
    ...call,
    "-s",
    "+14155550199",
    "-m",
    "1",
    "-i",
    "127.0.0.1",
    "-p",
    "0",
    "-mp",
    String(mediaPort),
    `127.0.0.1:${port}`,
  ];
}

/** The first call to reach `status` (waits for it). */
export function waitForStatus(fx: Fixture, status: string, ms?: number): Promise<Call> {
  return fx.waitFor(() => {
    const e = fx.events.find((e) => e.type === "status" && e.call.status === status);
    return e?.type === "status" ? e.call : undefined;
  }, ms);
}

/**
 * Signalling-only media that records what the gateway told it: `start <direction>` and
 * `update <direction>`, with the remote address appended when `withAddress`.
 */
export function recordingMedia(log: string[], withAddress = false): MediaLegFactory {
  const line = (what: string, p: MediaParameters) =>
    `${what} ${p.direction}${withAddress ? ` ${p.audio.remote.address}` : ""}`;
  return async (init) => {
    const leg = await signallingOnlyMedia(init);
    return {
      ...leg,
      start(p) {
        log.push(line("start", p));
        return leg.start(p);
      },
      update(p) {
        log.push(line("update", p));
        return leg.update(p);
      },
    };
  };
}

/** Resolves once something listens on `port` (sipp as a UAS has bound its socket). */
export async function sippListening(port: number, transport: "udp" | "tcp" = "udp"): Promise<void> {
  for (let attempt = 0;; attempt++) {
    if (transport === "tcp") {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return;
      } catch (error) {
        if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
      }
    } else {
      try {
        Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port }).close();
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) return;
        throw error;
      }
    }
    if (attempt > 600) throw new Error(`Nothing listens on ${transport} port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Waits for call `sid`'s status event to `status` (the event, not the store: the store is
 * written first, so the event is what says every observer has heard of it).
 */
export function waitForCall(fx: Fixture, sid: string, status: string, ms?: number): Promise<Call> {
  return fx.waitFor(() => {
    const e = fx.events.find((e) =>
      e.type === "status" && e.sid === sid && e.call.status === status
    );
    return e?.type === "status" ? e.call : undefined;
  }, ms);
}

/**
 * Originates a call from +14155550100 to `to` [+14155550123, through the loopback trunk] and
 * waits for it to reach `until` [`in_progress`]; returns the call as it is then.
 */
export async function originate(
  fx: Fixture,
  { to = "+14155550123", until = "in_progress" }: { to?: string; until?: string } = {},
): Promise<Call> {
  const call = await fx.calls.originate({ from: "+14155550100", to });
  return await waitForCall(fx, call.sid, until);
}

/** Hangs `sid` up through the calls service and waits for it to complete. */
export async function hangUp(fx: Fixture, sid: string): Promise<Call> {
  await fx.calls.hangup(sid);
  return await waitForCall(fx, sid, "completed");
}

/**
 * Reads every object of the calls' tracks named in `names` as the relay routes them (other
 * tracks are closed), handing each to `onObject` with its track's info; disposed, the route
 * ends. What tests record of a call's uplink (or downlink) comes from here.
 */
export function readCallTracks(
  fx: Fixture,
  names: readonly string[],
  onObject: (object: MoqObject, info: TrackInfo) => void,
): Disposable {
  return fx.origin.route("voice/*", async (track) => {
    if (!names.includes(track.info.name)) return track.close();
    for (let group; (group = await track.nextGroup());) {
      for (let object; (object = await group.readObject());) onObject(object, track.info);
    }
  });
}
