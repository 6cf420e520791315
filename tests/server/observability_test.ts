import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { startServer } from "../calls/_server.ts";
import { loadConfig } from "../../src/server/config.ts";
import { createLogger } from "../../src/log/mod.ts";
import { VoiceServer } from "../../src/server/server.ts";
import { VERSION } from "../../src/server/version.ts";
import { requireOrSkip } from "../_lib/env.ts";

const MAIN = new URL("../../src/server/main.ts", import.meta.url).pathname;

function hasPromtool(): boolean {
  try {
    return new Deno.Command("promtool", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The value of the exposition line for `series` (exact name and labels), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("GET /metrics passes promtool check metrics and counts a call, its setup time and the HTTP requests", async () => {
  if (!requireOrSkip(hasPromtool(), "promtool is not installed (apt-get install prometheus)")) {
    return;
  }
  await using fixture = await startServer();
  const voice = await fixture.voice();
  await voice.clients.add("mia");
  const call = await voice.calls.originate({ from: "+14155550100", to: "client:mia" });
  // Answered once ringing (the status stream says so), then hung up.
  for await (const event of voice.calls.events(call.sid)) {
    if (event.type === "status" && event.call.status === "ringing") break;
  }
  await voice.calls.answer(call.sid);
  const ended = await voice.calls.hangup(call.sid);
  assertEquals(ended.status, "completed");

  const response = await fetch(`${fixture.url}/metrics`);
  assertEquals(response.status, 200);
  assertMatch(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();

  const promtool = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = promtool.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const checked = await promtool.output();
  const findings = new TextDecoder().decode(checked.stdout) +
    new TextDecoder().decode(checked.stderr);
  assertEquals([checked.code, findings.trim()], [0, ""], "promtool check metrics is clean");

  for (
    const family of [
      "clutchcall_calls_total",
      "clutchcall_live_calls",
      "clutchcall_call_setup_seconds",
      "clutchcall_relay_sessions",
      "clutchcall_relay_tracks",
      "clutchcall_relay_objects_total",
      "clutchcall_relay_dropped_groups_total",
      "clutchcall_rtp_packets_total",
      "clutchcall_rtp_lost_packets_total",
      "clutchcall_rtp_jitter_seconds",
      "clutchcall_sip_requests_total",
      "clutchcall_sip_responses_total",
      "clutchcall_webhook_deliveries_total",
      "clutchcall_http_request_duration_seconds",
      "clutchcall_event_loop_lag_seconds",
      "clutchcall_storage_errors_total",
    ]
  ) {
    const name = family.replace(/_total$/, "");
    assert(new RegExp(`^# TYPE ${name}(_total)? `, "m").test(text), `${family} is exposed`);
  }
  assertEquals(sample(text, 'clutchcall_calls_total{status="dialing",end_reason="none"}'), 1);
  assertEquals(sample(text, 'clutchcall_calls_total{status="ringing",end_reason="none"}'), 1);
  assertEquals(sample(text, 'clutchcall_calls_total{status="in_progress",end_reason="none"}'), 1);
  assertEquals(sample(text, 'clutchcall_calls_total{status="completed",end_reason="hangup"}'), 1);
  assertEquals(sample(text, "clutchcall_live_calls"), 0);
  assertEquals(sample(text, "clutchcall_call_setup_seconds_count"), 1);
  assertEquals(
    sample(
      text,
      'clutchcall_http_request_duration_seconds_count{method="POST",route="/v1/calls",status="201"}',
    ),
    1,
  );
  // One series per route pattern, not per sid.
  assertEquals(
    sample(
      text,
      'clutchcall_http_request_duration_seconds_count{method="POST",route="/v1/calls/:sid/hangup",status="200"}',
    ),
    1,
  );
  assertEquals(text.includes(call.sid), false, "no sid in any label");

  // The access log has a line per request, and every call state change is logged with its sid.
  const records = fixture.logs.map((line) => JSON.parse(line));
  assert(
    records.some((r) =>
      r.msg === "HTTP request" && r.method === "POST" && r.route === "/v1/calls" &&
      r.status === 201 &&
      typeof r.ms === "number" && /^127\.0\.0\.1:\d+$/.test(r.peer)
    ),
  );
  assertEquals(
    records.filter((r) => r.msg === "Call status" && r.sid === call.sid).map((r) => r.status),
    ["dialing", "ringing", "in_progress", "completed"],
  );
});

Deno.test("GET /readyz is 503 naming the plugin that failed, while /healthz stays ok with the version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-readyz-" });
  try {
    const pluginsUrl = new URL("../../src/plugins/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/failing.ts`,
      `import { definePlugin } from "${pluginsUrl}";\n` +
        `export default definePlugin({ name: "failing", setup() { throw new Error("no licence"); } });\n`,
    );
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ httpPort: 0, moqPort: 0, plugins: [{ module: "./failing.ts" }] }),
    );
    const config = await loadConfig(
      ["--config", `${dir}/config.json`, "--data-dir", `${dir}/data`],
      {},
    );
    await using server = await VoiceServer.start(config, createLogger({ sink: () => {} }));
    const ready = await fetch(`${server.httpUrl}/readyz`);
    assertEquals(ready.status, 503);
    const report = await ready.json();
    assertEquals(report.status, "not_ready");
    assertEquals(
      report.checks.find((c: { name: string }) => c.name === "plugin:failing"),
      { name: "plugin:failing", ok: false, reason: 'Plugin "failing" is detached' },
    );
    const health = await fetch(`${server.httpUrl}/healthz`);
    assertEquals(await health.json(), { status: "ok", version: VERSION });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET /readyz is 200 once the server is up, and 503 while it shuts down", async () => {
  await using fixture = await startServer();
  const ready = await fetch(`${fixture.url}/readyz`);
  assertEquals(ready.status, 200);
  const report = await ready.json();
  assertEquals(report.status, "ready");
  assert(report.checks.some((c: { name: string; ok: boolean }) => c.name === "calls" && c.ok));
  assertEquals(fixture.server.readiness().ready, true);
  const closing = fixture.server.close(100);
  assertEquals(fixture.server.readiness().checks[0], {
    name: "server",
    ok: false,
    reason: "Shutting down",
  });
  await closing;
});

Deno.test("--version prints the package version and exits 0; --help lists it", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--unstable-net", "--unstable-kv", MAIN, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const version = await run(["--version"]);
  assertEquals(version.code, 0);
  assertEquals(new TextDecoder().decode(version.stdout), `clutchcall-voice ${VERSION}\n`);
  const denoJson = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assertEquals(VERSION, denoJson.version);
  const help = await run(["--help"]);
  assertStringIncludes(new TextDecoder().decode(help.stdout), "--version");
});
