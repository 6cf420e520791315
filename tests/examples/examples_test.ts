import { assertEquals, assertMatch } from "@std/assert";
import { listeningSipPort, spawnServer } from "../_lib/server_process.ts";
import { pathExists, requireOrSkip } from "../_lib/env.ts";
import { sipp } from "../sip/_harness.ts";
import { Voice } from "../../src/sdk/mod.ts";
import { waitFor } from "../_lib/wait.ts";
import {
  haveChromium,
  launchChromium,
  openPage,
  softphoneUrl,
  waitForPlayed,
  waitForStatus,
} from "../browser/_browser.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `examples/<name>` as its header says (`deno run -A --unstable-net`), from the repo root. */
async function runExample(name: string, env: Record<string, string>) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", `examples/${name}`],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("examples/originate_client.ts: an SDK client answers a client: call and both sides hear each other", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-" });
  try {
    await using server = await spawnServer({ dataDir });
    const run = await runExample("originate_client.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    assertEquals(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assertMatch(lines[0], /^originated CA\S+ to client:alice$/);
    const sid = lines[0].split(" ")[1];
    assertEquals(lines.slice(1).sort(), [
      `alice heard the app on ${sid}`,
      `call ${sid} completed (hangup)`,
      `the app heard alice on ${sid}`,
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("examples/track_logger.ts (the README's plugin): the server loads it from examples/track_logger.json and it logs a call's tracks", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-plugin-" });
  try {
    await using server = await spawnServer({
      dataDir,
      configPath: `${ROOT}examples/track_logger.json`,
      args: ["--http-port", "0", "--moq-port", "0"],
    });
    assertEquals(server.listening.plugins, ["track-logger:running"]);
    const run = await runExample("originate_client.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    assertEquals(run.code, 0, run.stderr);
    const logged = server.lines.map((line) => JSON.parse(line))
      .filter((record) => record.msg === "new track" && record.plugin === "track-logger")
      .map((record) => record.track)
      .sort();
    assertEquals(logged, ["downlink", "uplink"]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("examples/inbound_sip.ts: an inbound sipp call routed to client:desk is answered by code, whose tone comes back through the SIP leg", async () => {
  if (!requireOrSkip(pathExists("/usr/bin/sipp"), "sipp is not installed (sip-tester)")) return;
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-sip-" });
  try {
    // The example's config, on ports the server binds itself (0: a port probed free here could
    // be taken by a test beside this one before the server binds it) and reports.
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}examples/inbound_sip.json`));
    config.sip.listen.port = 0;
    Object.assign(config, { httpPort: 0, moqPort: 0 });
    const configPath = `${dataDir}/config.json`;
    await Deno.writeTextFile(configPath, JSON.stringify(config));
    await using server = await spawnServer({ dataDir, configPath });
    const sipPort = listeningSipPort(server.listening);
    const program = runExample("inbound_sip.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    // The call is placed once the program is registered (its incoming stream is open).
    const voice = new Voice({ baseUrl: server.listening.http, token: server.token! });
    // The access log line of a 200 on desk's incoming stream is written once the stream has
    // subscribed (and desk registered before it opened it).
    await waitFor(
      "the program's incoming stream for desk",
      () =>
        server.lines.some((l) =>
          l.includes('"route":"/v1/clients/:identity/incoming"') &&
          l.includes('"path":"/v1/clients/desk/incoming"') && l.includes('"status":200')
        ),
      { timeoutMs: 60_000 },
    );
    const caller = await sipp(
      [
        "-sf",
        `${ROOT}tests/sip/scenarios/uac_echo.xml`,
        "-rtp_echo",
        // sipp binds its RTP port itself (0: 6000, 6002, … until one is free).
        "-mp",
        "0",
        "-m",
        "1",
        "-d",
        "4000",
        "-s",
        "desk",
        "-i",
        "127.0.0.1",
        "-p",
        "0",
        `127.0.0.1:${sipPort}`,
      ],
      60_000,
    );
    assertEquals(caller.code, 0, caller.stdout.slice(-1500) + caller.stderr);
    const run = await program;
    assertEquals(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assertEquals(lines[0], "waiting for a call to client:desk");
    const sid = /^ringing: (CA\S+) from /.exec(lines[1])?.[1];
    assertEquals(lines.slice(2), [
      `heard our tone back from the caller on ${sid}`,
      `call ${sid} completed (caller_hangup)`,
    ]);
    const call = await voice.calls.get(sid!);
    assertEquals([call.direction, call.status], ["inbound", "completed"]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("examples/agent_call.ts: call.agent.attach() hands a client: call to the greeter agent of examples/agent.json (examples/greeter_agent.ts), whose greeting the caller hears", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-agent-" });
  try {
    await using server = await spawnServer({
      dataDir,
      configPath: `${ROOT}examples/agent.json`,
      args: ["--http-port", "0", "--moq-port", "0"],
    });
    const run = await runExample("agent_call.ts", {
      CLUTCHCALL_URL: server.listening.http,
      CLUTCHCALL_DATA_DIR: dataDir,
    });
    assertEquals(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    const sid = /^(CA\S+) is in_progress$/.exec(lines[0])?.[1];
    assertEquals(lines.slice(1), [
      `agent greeter attached to ${sid}`,
      "kim heard the greeter",
      `call ${sid} completed (hangup)`,
    ]);
    const greeted = server.lines.map((line) => JSON.parse(line))
      .filter((record) => record.msg === "greeting the caller");
    assertEquals(greeted.length, 1, "the server ran the example's agent module");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("examples/call_softphone.ts: the program rings the browser softphone, the page answers and plays the program's tone, the program hears the page's microphone, and the page hangs up", async () => {
  if (!haveChromium()) return;
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-example-softphone-" });
  try {
    await using server = await spawnServer({ dataDir });
    await using browser = await launchChromium();
    const page = await openPage(
      browser,
      softphoneUrl(server.listening.http, server.token!, { identity: "alice" }),
    );
    await page.locator("body[data-registered=alice]").waitFor();
    // The program as its header says, its output read line by line as it runs.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-net", "examples/call_softphone.ts"],
      cwd: ROOT,
      env: { CLUTCHCALL_URL: server.listening.http, CLUTCHCALL_DATA_DIR: dataDir },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const lines: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const nextLine = async (): Promise<string> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`The program ended: ${lines.join("\n")}\n${await stderr}`);
        buffered += value;
      }
      const [line, ...rest] = buffered.split("\n");
      buffered = rest.join("\n");
      lines.push(line);
      return line;
    };
    assertMatch(await nextLine(), /^softphone: http:\/\/\S+\/softphone\?identity=alice&token=/);
    assertEquals(await nextLine(), "ringing client:alice");
    await waitForStatus(page, "ringing");
    await page.getByTestId("answer").click();
    const sid = /^alice answered (CA\S+)$/.exec(await nextLine())?.[1];
    await waitForPlayed(page, 500); // the page plays the program's tone
    assertEquals(
      await nextLine(),
      `heard alice's microphone on ${sid}; hang up on the page to end`,
    );
    await page.getByTestId("hangup").click();
    assertMatch(await nextLine(), new RegExp(`^call ${sid} completed \\(\\w+\\)$`));
    assertEquals((await child.status).code, 0, await stderr);
    await reader.cancel();
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
