/**
 * Choosing the RTP engine (`sip.rtpEngine`, pinned: `"auto" | "xdp" | "io_uring" | "deno"`).
 * `auto` takes the best engine that works here, falling back to `deno`; a named engine that
 * cannot run is an error (the operator asked for it). The first log lines say which engine
 * runs and why each better one did not.
 *
 * `CLUTCH_RTP_ENGINE` in the environment beats the configuration (CI runs the sipp suite
 * once per engine with it); {@linkcode defaultRtpEngine} is the process-wide engine sessions
 * use when none is passed, chosen by that variable (else `deno`).
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import { denoRtpEngine } from "./deno_engine.ts";
import {
  nativeEngineUnavailable,
  NativeRtpEngine,
  type NativeRtpEngineOptions,
  xdpInterfaceFor,
} from "./native_engine.ts";
import {
  RTP_ENGINE_NAMES,
  type RtpEngine,
  type RtpEngineChoice,
  type RtpEngineName,
} from "./types.ts";

/** Whether `value` names an engine choice. */
export function isRtpEngineChoice(value: unknown): value is RtpEngineChoice {
  return value === "auto" || RTP_ENGINE_NAMES.includes(value as RtpEngineName);
}

/** The environment override, if set (and valid). */
export function rtpEngineOverride(): RtpEngineChoice | undefined {
  let value: string | undefined;
  try {
    value = Deno.env.get("CLUTCH_RTP_ENGINE");
  } catch (error) {
    // No --allow-env: no override.
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
  if (value === undefined || value === "") return undefined;
  if (!isRtpEngineChoice(value)) {
    throw new TypeError(
      `Invalid CLUTCH_RTP_ENGINE: "${value}" (expected auto, ${RTP_ENGINE_NAMES.join(", ")})`,
    );
  }
  return value;
}

/**
 * Why an engine cannot run here, or undefined when it can. `auto` also passes over xdp on
 * loopback or on `0.0.0.0`: AF_XDP needs one interface, and on `lo` it runs in generic (SKB)
 * mode with sends through the kernel sockets — no gain, and only one XDP program per
 * interface, so parallel servers would contend for it (name `xdp` explicitly to use it there).
 */
export function rtpEngineUnavailable(
  name: RtpEngineName,
  options: NativeRtpEngineOptions & { readonly hostname?: string; readonly auto?: boolean } = {},
): string | undefined {
  if (name === "deno") return undefined;
  if (name === "xdp") {
    const hostname = options.hostname ?? "127.0.0.1";
    const ifname = options.interface ?? xdpInterfaceFor(hostname);
    if (options.auto && (ifname === undefined || ifname === "lo")) {
      return ifname === "lo"
        ? `the RTP address ${hostname} is on loopback, where AF_XDP runs in generic mode only`
        : `the RTP address ${hostname} names no single interface for AF_XDP`;
    }
    return nativeEngineUnavailable("xdp", { ...options, interface: ifname ?? "lo" });
  }
  return nativeEngineUnavailable(name, options);
}

/**
 * Opens the engine `choice` asks for (the environment override first). Logs
 * `RTP engine: <name>` with the reason, and one line per better engine not used.
 *
 * @throws {Error} when a named (not `auto`) engine cannot run here.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { openRtpEngine } from "./select.ts";
 * const engine = openRtpEngine("deno");
 * assertEquals(engine.name, "deno");
 * await engine.close();
 * ```
 */
export function openRtpEngine(
  choice: RtpEngineChoice,
  options: NativeRtpEngineOptions & {
    readonly logger?: Logger;
    /** The RTP bind address (xdp picks its interface by it) ["127.0.0.1"]. */
    readonly hostname?: string;
    /** What beats `choice` [`rtpEngineOverride()`: `CLUTCH_RTP_ENGINE`]; null for nothing. */
    readonly override?: RtpEngineChoice | null;
  } = {},
): RtpEngine {
  const { logger } = options;
  const override = options.override === undefined
    ? rtpEngineOverride()
    : options.override ?? undefined;
  const wanted = override ?? choice;
  const source = override ? "CLUTCH_RTP_ENGINE" : "sip.rtpEngine";
  if (wanted !== "auto") {
    const engine = openNamed(wanted, options);
    logger?.info(`RTP engine: ${wanted}`, { engine: wanted, why: `${source} is "${wanted}"` });
    return engine;
  }
  const skipped: { engine: RtpEngineName; why: string }[] = [];
  for (const name of RTP_ENGINE_NAMES) {
    const why = rtpEngineUnavailable(name, { ...options, auto: true });
    if (why !== undefined) {
      skipped.push({ engine: name, why });
      continue;
    }
    let engine: RtpEngine;
    try {
      engine = openNamed(name, options);
    } catch (error) {
      skipped.push({ engine: name, why: (error as Error).message });
      continue;
    }
    logger?.info(`RTP engine: ${name}`, {
      engine: name,
      why: skipped.length === 0
        ? `${source} is "auto" and ${name} is the best engine`
        : `${source} is "auto"; better engines did not work here`,
    });
    for (const s of skipped) logger?.info(`RTP engine ${s.engine} not used`, s);
    return engine;
  }
  /* c8 ignore next: deno always works */
  throw new Error("Cannot open any RTP engine");
}

function openNamed(
  name: RtpEngineName,
  options: NativeRtpEngineOptions & { readonly hostname?: string },
): RtpEngine {
  if (name === "deno") return denoRtpEngine(options.logger);
  const native = name === "xdp"
    ? {
      ...options,
      interface: options.interface ?? xdpInterfaceFor(options.hostname ?? "127.0.0.1") ?? "lo",
    }
    : options;
  const why = rtpEngineUnavailable(name, native);
  if (why !== undefined) throw new Error(`Cannot use RTP engine ${name}: ${why}`);
  return NativeRtpEngine.open(name, native);
}

let shared: RtpEngine | undefined;

/**
 * The process-wide engine for sessions opened without one: `CLUTCH_RTP_ENGINE` (opened once,
 * closed when the worker unloads; `CLUTCH_XDP_INTERFACE` names xdp's interface [lo]), else `deno`.
 *
 * @example
 * ```ts
 * import { assertStrictEquals } from "@std/assert";
 * import { defaultRtpEngine } from "./select.ts";
 * assertStrictEquals(defaultRtpEngine(), defaultRtpEngine()); // one engine per process
 * ```
 */
export function defaultRtpEngine(): RtpEngine {
  if (shared) return shared;
  const override = rtpEngineOverride();
  let xdpInterface: string | undefined;
  try {
    xdpInterface = Deno.env.get("CLUTCH_XDP_INTERFACE") || undefined;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotCapable)) throw error;
  }
  const engine = override
    ? openRtpEngine(override, xdpInterface ? { interface: xdpInterface } : {})
    : denoRtpEngine();
  shared = engine;
  // A native engine's threads idle until the process ends; the xdp one must detach its XDP
  // program first (it outlives the process otherwise), so the worker closes it on unload.
  if (engine instanceof NativeRtpEngine) {
    globalThis.addEventListener("unload", () => engine.closeNow());
  }
  return engine;
}
