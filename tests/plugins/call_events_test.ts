import { assertEquals } from "@std/assert";
import { definePlugin, type PluginCallEventView, PluginHost } from "../../src/plugins/mod.ts";
import { Origin } from "../../src/relay/model/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import type { TranscriptEvent } from "../../src/voice/transcript.ts";

const event = (text: string): TranscriptEvent => ({
  type: "transcript",
  sid: "CA1",
  at: new Date().toISOString(),
  track: "uplink",
  kind: "final",
  text,
  start: 0,
  end: 100,
});

Deno.test("plugins emit call events through ctx.calls and hear each other's; a stopped plugin neither emits nor hears, a throwing listener is isolated", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", json: true, sink: (l) => lines.push(l) });
  await using host = new PluginHost({ origin: new Origin(), log, dataDir: "/tmp" });
  const heard: PluginCallEventView[] = [];
  let emit: ((text: string) => void) | undefined;
  await host.start(
    definePlugin({
      name: "listener",
      setup(ctx) {
        ctx.calls.on(() => {
          throw new Error("listener bug");
        });
        ctx.calls.on((e) => heard.push(e));
      },
    }),
    {},
  );
  const emitter = definePlugin({
    name: "emitter",
    setup(ctx) {
      emit = (text) => ctx.calls.emit(event(text));
    },
  });
  await host.start(emitter, {});
  emit!("one");
  assertEquals(heard.map((e) => (e as TranscriptEvent).text), ["one"]);
  assertEquals(lines.filter((l) => l.includes("listener bug")).length, 1);
  await host.close();
  emit!("after stop");
  assertEquals(heard.length, 1);
});

Deno.test("the host hands plugins' call events to the sink it was given (the server wires the Calls service there)", async () => {
  const log = createLogger({ level: "error", json: true, sink: () => {} });
  const sunk: unknown[] = [];
  const listeners = new Set<(e: PluginCallEventView) => void>();
  await using host = new PluginHost({
    origin: new Origin(),
    log,
    dataDir: "/tmp",
    calls: {
      emit: (e) => sunk.push(e),
      on: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
  });
  await host.start(
    definePlugin({
      name: "p",
      setup(ctx) {
        ctx.calls.on(() => {});
        ctx.calls.emit(event("hello"));
      },
    }),
    {},
  );
  assertEquals(sunk.length, 1);
  assertEquals(listeners.size, 1);
  await host.close();
  assertEquals(listeners.size, 0, "listeners removed when the plugin stops");
});
