import { assert, assertEquals } from "@std/assert";
import { checkLayering, cyclesOf, denoApiUses } from "../../scripts/layering/check.ts";
import { KNOWN_VIOLATIONS, LAYERS } from "../../scripts/layering/rules.ts";

Deno.test("layering check names an import from a lower floor to a higher one", () => {
  const graph = new Map([
    ["src/relay/model/track.ts", ["src/relay/relay.ts", "src/log/mod.ts"]],
    ["src/relay/relay.ts", ["src/relay/model/group.ts"]],
  ]);
  const problems = checkLayering(graph, LAYERS, []);
  assertEquals(problems.map((p) => p.kind), ["upward_import"]);
  assert(problems[0].message.startsWith("src/relay/model/track.ts imports src/relay/relay.ts"));
});

Deno.test("layering check refuses imports between folders of the same floor", () => {
  const graph = new Map([["src/voice/track.ts", ["src/relay/wire/draft14/extensions.ts"]]]);
  assertEquals(checkLayering(graph, LAYERS, []).map((p) => p.kind), ["upward_import"]);
});

Deno.test("layering check lets a folder import lower floors and itself", () => {
  const graph = new Map([
    ["src/bridge/audio_bridge.ts", ["src/codecs/g711.ts", "src/relay/model/mod.ts"]],
    ["src/bridge/mod.ts", ["src/bridge/audio_bridge.ts", "src/voice/mod.ts"]],
    ["src/relay/wire/draft14/session.ts", ["src/relay/transport/transport.ts"]],
    ["mod.ts", ["src/sdk/mod.ts", "src/bridge/mod.ts"]],
    ["src/sdk/voice.ts", ["src/calls/call.ts"]],
  ]);
  assertEquals(checkLayering(graph, LAYERS, []), []);
});

Deno.test("layering check lets nothing but src/server import src/server", () => {
  const graph = new Map([
    ["src/server/main.ts", ["src/server/server.ts"]],
    ["src/sdk/voice.ts", ["src/server/config.ts"]],
    ["mod.ts", ["src/server/mod.ts"]],
    ["src/calls/api.ts", ["src/server/http.ts"]],
  ]);
  const problems = checkLayering(graph, LAYERS, []);
  assertEquals(problems.map((p) => p.kind), ["server_import", "server_import", "server_import"]);
});

Deno.test("layering check finds import cycles, even inside one folder", () => {
  const graph = new Map([
    ["src/codecs/a.ts", ["src/codecs/b.ts"]],
    ["src/codecs/b.ts", ["src/codecs/c.ts"]],
    ["src/codecs/c.ts", ["src/codecs/a.ts"]],
    ["src/codecs/d.ts", ["src/codecs/a.ts"]],
  ]);
  assertEquals(cyclesOf(graph), [["src/codecs/a.ts", "src/codecs/b.ts", "src/codecs/c.ts"]]);
  const problems = checkLayering(graph, LAYERS, []);
  assertEquals(problems.map((p) => p.message), [
    "Import cycle: src/codecs/a.ts -> src/codecs/b.ts -> src/codecs/c.ts -> src/codecs/a.ts",
  ]);
});

Deno.test("layering check fails on an allowance that is no longer needed", () => {
  const known = [{ from: "src/voice/track.ts", to: "src/relay/relay.ts", removedBy: "item" }];
  const ok = checkLayering(
    new Map([["src/voice/track.ts", ["src/relay/relay.ts"]]]),
    LAYERS,
    known,
  );
  assertEquals(ok, []);
  const stale = checkLayering(new Map([["src/voice/track.ts", []]]), LAYERS, known);
  assertEquals(stale.map((p) => p.kind), ["stale_allowance"]);
});

Deno.test("layering check finds the Deno API in the sdk and browser folders only", () => {
  const sources = new Map([
    ["src/sdk/voice.ts", "// Deno.env is not used here\nconst x = Deno.env.get('A');\n"],
    ["src/relay/relay.ts", "Deno.connectQuic();\n"],
  ]);
  const problems = denoApiUses(sources, LAYERS);
  assertEquals(problems.map((p) => p.message), [
    "src/sdk/voice.ts:2 uses the Deno API: const x = Deno.env.get('A');",
  ]);
});

Deno.test("every known violation names the issue item that removes it", () => {
  for (const entry of KNOWN_VIOLATIONS) assert(/issue \d+/.test(entry.removedBy), entry.from);
});

Deno.test("the repository's module graph keeps the layering", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-run",
      "--allow-env",
      new URL("../../scripts/check_layering.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert(output.success, stderr);
});
