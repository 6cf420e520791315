import { assertEquals, assertRejects, assertThrows } from "@std/assert";
import { definePlugin, PluginHost } from "../../src/plugins/mod.ts";
import { Origin } from "../../src/relay/model/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { waitFor } from "../_lib/wait.ts";

function quietLog() {
  const lines: string[] = [];
  return { log: createLogger({ level: "debug", json: true, sink: (l) => lines.push(l) }), lines };
}

const NS = ["voice", "CA1"];

function sendObjects(origin: Origin, name: string, n: number) {
  const track = origin.publishTrack({ namespace: NS, name, capability: "voice/opus" });
  const group = track.appendGroup();
  for (let i = 0; i < n; i++) group.write({ id: i, payload: new Uint8Array(4) });
  group.close();
  return track;
}

Deno.test("a plugin loaded from a module path is handed matching tracks", async () => {
  const origin = new Origin();
  const { log } = quietLog();
  await using host = new PluginHost({ origin, log, dataDir: "/tmp" });
  const status = await host.load(
    { module: "./fixtures/counting_plugin.ts", options: { key: "__counted_a" } },
    import.meta.url,
  );
  assertEquals(status.state, "running");
  const track = sendObjects(origin, "uplink", 5);
  track.close();
  const countsNow = () =>
    (globalThis as Record<string, unknown>).__counted_a as Record<string, number> | undefined;
  await waitFor(
    "the plugin to count the track's objects",
    () => (countsNow()?.["voice/CA1/uplink"] ?? 0) >= 5,
  );
  const counts = countsNow()!;
  assertEquals(counts["voice/CA1/uplink"], 5);
  await host.close();
  assertEquals(counts.__stopped, 1);
});

Deno.test("a module whose default export is not a plugin is a configuration error", async () => {
  const { log } = quietLog();
  await using host = new PluginHost({ origin: new Origin(), log, dataDir: "/tmp" });
  await assertRejects(
    () => host.load({ module: "./fixtures/not_a_plugin.ts" }, import.meta.url),
    TypeError,
    "definePlugin",
  );
});

Deno.test("a plugin whose setup throws is detached and logged", async () => {
  const { log, lines } = quietLog();
  await using host = new PluginHost({ origin: new Origin(), log, dataDir: "/tmp" });
  const status = await host.start(
    definePlugin({
      name: "broken",
      setup() {
        throw new Error("boom");
      },
    }),
    {},
  );
  assertEquals(status.state, "detached");
  assertEquals(status.error, "Error: boom");
  assertEquals(lines.some((l) => l.includes("Plugin failed and was detached")), true);
});

Deno.test("a plugin whose setup stalls is detached after the timeout", async () => {
  const { log } = quietLog();
  await using host = new PluginHost({ origin: new Origin(), log, dataDir: "/tmp", timeoutMs: 50 });
  let release!: () => void;
  const stalled = new Promise<void>((r) => release = r);
  const status = await host.start(definePlugin({ name: "stall", setup: () => stalled }), {});
  release();
  assertEquals(status.state, "detached");
});

Deno.test("a throwing route handler detaches only its plugin; others keep their tracks", async () => {
  const origin = new Origin();
  const { log } = quietLog();
  await using host = new PluginHost({ origin, log, dataDir: "/tmp" });
  let published: ReturnType<Origin["publishTrack"]> | undefined;
  await host.start(
    definePlugin({
      name: "bad",
      setup(ctx) {
        published = ctx.publishTrack({ namespace: ["voice", "X"], name: "downlink" });
        ctx.route("voice/opus", () => {
          throw new Error("handler bug");
        });
      },
    }),
    {},
  );
  const seen: string[] = [];
  await host.start(
    definePlugin({
      name: "good",
      setup(ctx) {
        ctx.route("voice/*", (t) => void seen.push(t.info.name));
      },
    }),
    {},
  );
  sendObjects(origin, "uplink", 1);
  sendObjects(origin, "downlink", 1);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(host.status().map((s) => s.state), ["detached", "running"]);
  assertEquals(published?.done, true, "the detached plugin's tracks are closed");
  assertEquals(seen, ["uplink", "downlink"]);
});

Deno.test("definePlugin rejects malformed declarations", () => {
  assertThrows(() => definePlugin({ name: "bad name!", setup() {} }), TypeError);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => definePlugin({ name: "ok" } as any), TypeError);
});
