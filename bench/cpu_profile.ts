/**
 * A V8 CPU profile of another Deno process, taken through its inspector (the process runs
 * with `--inspect=127.0.0.1:0`), summarised as self time per function and per area of the
 * code. Used by `bench/relay_bench.ts` to show where the relay's time goes.
 *
 * @module
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Self time of one function or area, in ms and as a share of the sampled time. */
export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

/** What a profile says. */
export interface ProfileSummary {
  readonly sampledMs: number;
  readonly functions: SelfTime[];
  readonly areas: SelfTime[];
  /** The raw V8 profile (`.cpuprofile` JSON: open it in Chrome DevTools for the call tree). */
  readonly raw?: unknown;
}

/** A profiler attached to a process's inspector; stop it to get the summary. */
export interface CpuProfiler {
  stop(): Promise<ProfileSummary>;
}

/** Reads a child's stderr until the inspector's `ws://` URL shows up. */
export async function inspectorUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot profile: no inspector URL in stderr: ${text}`);
    text += value;
    const match = text.match(/ws:\/\/[^\s]+/);
    if (match) {
      // Keep draining stderr so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return match[0];
    }
  }
}

/** Names the area of the code a sampled frame belongs to. */
export type AreaOf = (frame: CallFrame) => string;

/**
 * Connects to `url` and starts sampling every `intervalUs` µs; `area` groups the self time
 * (default: the relay's folders, everything else of ours as "src (other)").
 */
export async function startCpuProfile(
  url: string,
  intervalUs = 200,
  area: AreaOf = areaOf,
  functionsListed = 15,
): Promise<CpuProfiler> {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  let nextId = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id !== undefined) waiting.get(msg.id)?.(msg.result);
  };
  const call = (method: string, params: unknown = {}) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: intervalUs });
  await call("Profiler.start");
  return {
    async stop() {
      const { profile } = await call("Profiler.stop") as { profile: Profile };
      socket.close();
      return { ...summarize(profile, area, functionsListed), raw: profile };
    },
  };
}

function areaOf({ functionName, url }: CallFrame): string {
  if (functionName.startsWith("(")) return functionName; // (idle), (program), (garbage collector)
  const src = url.match(/\/src\/relay\/(wire\/draft14|model|transport)\//);
  if (src) return `src/relay/${src[1]}`;
  if (url.includes("/src/")) return "src (other)";
  const ext = url.match(/^ext:([a-z_]+)\/(?:\d+_)?([a-z_]+)/);
  if (ext) return `Deno ${ext[1]} ${ext[2]}`;
  return url === "" ? "V8 builtins / native" : "other JS";
}

function rank(totals: Map<string, number>, sampledMs: number, limit: number): SelfTime[] {
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, ms]) => ({
    name,
    ms,
    share: ms / sampledMs,
  }));
}

/**
 * An {@linkcode AreaOf} by folder: `src/<folder>`, `npm <package>`, Deno's extensions, V8's
 * own (idle, GC, program).
 */
export function folderAreaOf({ functionName, url }: CallFrame): string {
  if (functionName.startsWith("(")) return functionName;
  const src = url.match(/\/src\/([a-z_-]+)\//);
  if (src) return `src/${src[1]}`;
  const npm = url.match(/node_modules\/(?:\.deno\/)?((?:@[^/+]+[/+])?[^/@]+)/);
  if (npm) return `npm ${npm[1].replace("+", "/")}`;
  const ext = url.match(/^ext:([a-z_]+)\/(?:\d+_)?([a-z_]+)/);
  if (ext) return `Deno ${ext[1]} ${ext[2]}`;
  return url === "" ? "V8 builtins / native" : "other JS";
}

/** Self time per function (top 15) and per area of the code. */
export function summarize(
  profile: Profile,
  area: AreaOf = areaOf,
  functionsListed = 15,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let sampledMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const frame = byId.get(profile.samples[i]);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!frame) continue;
    sampledMs += ms;
    const file = frame.url.replace(/^.*\/(src|ext:[a-z_]+)\//, "$1/");
    const name = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const where = area(frame);
    areas.set(where, (areas.get(where) ?? 0) + ms);
  }
  return {
    sampledMs,
    functions: rank(functions, sampledMs, functionsListed),
    areas: rank(areas, sampledMs, 12),
  };
}
