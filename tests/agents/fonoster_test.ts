/**
 * The `fonoster` adapter against a real Fonoster Voice Application (npm `@fonoster/voice`,
 * unchanged, in its own process): a PSTN call from sipp with RFC 4733 digits, the stream verb
 * over a `client:` leg, a verb the engine does not carry out, and apps that are gone or die.
 */
import { assert, assertEquals } from "@std/assert";
import { speak } from "../../src/agents/mod.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import {
  callerArgs,
  haveSipp,
  scenario,
  sipp,
  spawnEchoUas,
  spawnSippUas,
} from "../sip/_harness.ts";
import { type AgentServer, startAgentServer } from "./_fixture.ts";
import { feedUlaw, Recorder, rms, turns8k } from "./_audio.ts";
import { inboundToAgent, recordRtp } from "./_sip.ts";
import { type FonosterApp, freeTcpPort, startFonosterApp } from "./_fonoster.ts";
import { pcm16FromBytes, pcm16ToBytes } from "../../src/codecs/pcm16.ts";
import { decodeWav, encodeWav } from "../../src/codecs/wav.ts";
import { beep } from "../../src/agents/fonoster_record.ts";

const PROMPT = "Please enter four digits.";

/** A PCMU call: after `leadMs` it presses each digit (sipp's RFC 4733 pcaps), then awaits a BYE. */
function digitsScenario(digits: string, leadMs: number): string {
  const presses = [...digits].map((d) => `
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_${d}.pcap" /></action></nop>
  <pause milliseconds="800" />`).join("");
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="UAC into a Fonoster app: hear the prompt, press digits, get hung up on">
  <Global variables="rec_port" />
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      m=audio [$rec_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>
  <recv response="100" optional="true"></recv>
  <recv response="180" optional="true"></recv>
  <recv response="183" optional="true"></recv>
  <recv response="200" rtd="true"></recv>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag09[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="${leadMs}" />${presses}
  <recv request="BYE"></recv>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: sip:sipp@[local_ip]:[local_port]
      Content-Length: 0

    ]]>
  </send>
</scenario>
`;
}

/**
 * A sipp call to the gateway at `sipPort` running {@linkcode digitsScenario}; resolves once sipp
 * exited, with what it printed and the audio sent to the SDP's port (the prompt: until sipp
 * sends its first packet, the first digit, the gateway sends there, to a socket of ours).
 */
async function digitsCall(sipPort: number, digits: string, leadMs: number) {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-fonoster-sipp-" });
  const media = recordRtp(0);
  let result;
  let heard;
  try {
    await Deno.writeTextFile(`${dir}/uac.xml`, digitsScenario(digits, leadMs));
    result = await sipp(
      callerArgs(sipPort, ["-sf", `${dir}/uac.xml`, "-set", "rec_port", String(media.port)]),
      120_000,
    );
  } finally {
    heard = await media.stop();
    await Deno.remove(dir, { recursive: true });
  }
  return { result, heard };
}

Deno.test("an unchanged @fonoster/voice app drives a PSTN call: sipp → inbound route → its say reaches the caller (correlated with espeak-ng), gather returns the four RFC 4733 digits sipp pressed, its hangup sends the BYE", async () => {
  if (!haveSipp()) return;
  await using app = await startFonosterApp("ivr");
  await using fx = await startAgentServer({
    agents: {
      app: { type: "fonoster", url: app.url, appRef: "test-app", accessKeyId: "WO00000000" },
    },
    sip: inboundToAgent("app"),
  });
  const sipPort = fx.server.sipPort!;
  const { result, heard } = await digitsCall(sipPort, "1234", 10_000);
  // sipp never hangs up itself: exit 0 says the BYE came from the app's hangup.
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr + app.output());

  const { calls } = await fx.voice.calls.list({});
  assertEquals(calls.length, 1);
  const call = await fx.voice.calls.get(calls[0].sid);
  assertEquals([call.status, call.endReason], ["completed", "hangup"]);

  // The session request, as Fonoster's media side fills it.
  const request = (await app.next("request")).request as Record<string, unknown>;
  assertEquals(
    [request.mediaSessionRef, request.callRef, request.appRef, request.accessKeyId],
    [call.sid, call.sid, "test-app", "WO00000000"],
  );
  assertEquals([request.callerNumber, request.callDirection], [call.from, "FROM_PSTN"]);
  // gather answered with the digits sipp pressed, and the app went on to hang up.
  const gathered = (await app.next("gathered")).gathered as Record<string, unknown>;
  assertEquals(
    [gathered.mediaSessionRef, gathered.content, gathered.digits],
    [call.sid, "digits", "1234"],
  );
  await app.next("hung up");

  // The caller was sent the app's say: espeak-ng's rendering of the prompt.
  const spoken = await speak(PROMPT, { sampleRate: 8000 });
  const c = bestLagCorrelation(spoken, heard, {
    maxLag: Math.max(0, heard.length - spoken.length),
    minOverlap: spoken.length - 800,
  });
  assert(c.r >= 0.9, `the caller was sent the app's say with r = ${c.r.toFixed(3)} (lag ${c.lag})`);
});

/** A say of some 15 s: sipp's digits (2.0 s to 4.4 s after the ACK) fall well inside it. */
const LONG_PROMPT = "Welcome. This prompt is long on purpose, so that the caller knows the menu " +
  "and presses the digits before it ends. For sales, press one. For support, press two. For " +
  "billing, press three. For anything else, stay on the line and an operator will be with you " +
  "shortly. Thank you for calling.";

/** One sipp call into the `typeahead` app: digits during the say; resolves with what gather got. */
async function typeAheadCall(typeAhead: boolean, gatherTimeoutMs: number) {
  await using app = await startFonosterApp("typeahead", LONG_PROMPT, String(gatherTimeoutMs));
  await using fx = await startAgentServer({
    agents: { app: { type: "fonoster", url: app.url, typeAhead } },
    sip: inboundToAgent("app"),
  });
  const { result } = await digitsCall(fx.server.sipPort!, "1234", 2000);
  // The BYE came from the app's hangup, after its gather answered.
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr + app.output());
  const said = app.lines.findIndex((l) => l.event === "said");
  const gathered = app.lines.findIndex((l) => l.event === "gathered");
  assert(said >= 0 && gathered > said, app.output());
  return app.lines[gathered].gathered as Record<string, unknown>;
}

Deno.test("fonoster typeAhead: RFC 4733 digits sipp presses during a say are kept and the next gather returns them (the app's gather gets 1234 although no digit comes after it starts)", async () => {
  if (!haveSipp()) return;
  // The fixture's geometry: the say outlasts the presses (last one 4.4 s after the ACK).
  const prompt = await speak(LONG_PROMPT, { sampleRate: 8000 });
  assert(prompt.length / 8000 > 10, `the prompt lasts ${prompt.length / 8000} s`);
  // No digit comes after the gather starts: only kept digits end it before its timeout (on
  // the old code no gather answered: the gateway ended the call, no RTP from sipp for 30 s).
  const gathered = await typeAheadCall(true, 40_000);
  assertEquals([gathered.content, gathered.digits], ["digits", "1234"]);
});

Deno.test("fonoster without typeAhead: digits pressed during a say are dropped, as Fonoster's media side drops them (the gather times out with no digits)", async () => {
  if (!haveSipp()) return;
  const gathered = await typeAheadCall(false, 1000);
  assertEquals(gathered.digits, undefined);
  assertEquals(gathered.speech ?? "", "");
});

/**
 * Waits for the caller to hear something loud, then for `pcm`'s length more (and 0.5 s);
 * the best correlation of `pcm` with what was heard from just before the onset.
 */
async function heardFromOnset(heard: Recorder, pcm: Int16Array) {
  const first = await heard.next((f) => rms(f.pcm) > 1000);
  await heard.next((_, i) => i >= first + pcm.length / 160 + 25, first);
  return bestLagCorrelation(pcm, heard.timeline(Math.max(0, first - 25)), {
    maxLag: 16_000,
    minOverlap: pcm.length - 800,
  });
}

Deno.test("fonoster stream verb over a client: leg: the app's AUDIO_OUT payloads are the caller's audio (8 kHz PCM16, r ≥ 0.9) and its AUDIO_IN reaches the caller (r ≥ 0.9)", async () => {
  const speech = turns8k();
  const reply = speech.subarray(12_000, 36_000);
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-fonoster-stream-" });
  try {
    await Deno.writeFile(`${dir}/reply.raw`, pcm16ToBytes(reply));
    await using app = await startFonosterApp("stream", `${dir}/in.raw`, `${dir}/reply.raw`);
    await using fx = await startAgentServer({
      agents: { app: { type: "fonoster", url: app.url } },
    });
    const { sid, caller, events } = await fx.liveCall("g711_ulaw");
    const heard = new Recorder(caller);
    await fx.voice.agents.attach({ sid, agent: "app" });
    await events.next((e) => e.type === "agent");
    await app.next("streaming");

    // Downlink: the app's AUDIO_IN, played to the caller.
    const down = await heardFromOnset(heard, reply);
    assert(down.r >= 0.9, `the caller heard the app's AUDIO_IN with r = ${down.r.toFixed(3)}`);

    // Uplink: the caller speaks; the app saves its first 8 s of AUDIO_OUT.
    const abort = new AbortController();
    const feeding = feedUlaw(caller, speech, abort.signal);
    await app.next("saved");
    abort.abort();
    await feeding;
    const got = pcm16FromBytes(await Deno.readFile(`${dir}/in.raw`));
    const up = bestLagCorrelation(speech.subarray(0, 7_000 * 8), got, {
      minLag: -8000,
      maxLag: 8000,
      minOverlap: 40_000,
    });
    assert(up.r >= 0.9, `the app's AUDIO_OUT is the caller's audio with r = ${up.r.toFixed(3)}`);
    await fx.voice.calls.hangup(sid);
    await heard.done;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Runs the app in `mode` with a WAV of `samples` at a `file:` URL as its argument, against a
 * server whose agent `app` it is, bound to a live `client:` µ-law call; `body` gets the app,
 * the fixture, the sid and a recorder of what the caller hears.
 */
async function withWavApp(
  mode: string,
  samples: Int16Array,
  body: (c: {
    app: FonosterApp;
    fx: AgentServer;
    sid: string;
    heard: Recorder;
  }) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: `clutchcall-fonoster-${mode}-` });
  try {
    await Deno.writeFile(`${dir}/reply.wav`, encodeWav({ sampleRate: 8000, channels: 1, samples }));
    await using app = await startFonosterApp(mode, `file://${dir}/reply.wav`);
    await using fx = await startAgentServer({
      agents: { app: { type: "fonoster", url: app.url } },
    });
    const { sid, caller } = await fx.liveCall("g711_ulaw");
    const heard = new Recorder(caller);
    await fx.voice.agents.attach({ sid, agent: "app" });
    await body({ app, fx, sid, heard });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The best correlation of `pcm` anywhere in `timeline` (nearly all of it overlapping). */
function heardIn(timeline: Int16Array, pcm: Int16Array): number {
  return bestLagCorrelation(pcm, timeline, {
    maxLag: Math.max(0, timeline.length - pcm.length),
    minOverlap: pcm.length - 800,
  }).r;
}

Deno.test("fonoster verbs over a client: leg: play (a WAV file URL) reaches the caller (r ≥ 0.9), a say while muted OUT is not heard, stopSay stops a say before it is heard, playDtmf without a SIP leg gets an ERROR payload, a say after unmute is heard (r ≥ 0.9)", async () => {
  const reply = turns8k().subarray(12_000, 36_000);
  await withWavApp("verbs", reply, async ({ app, sid, heard }) => {
    const played = (await app.next("played")).played as Record<string, unknown>;
    assertEquals(played.mediaSessionRef, sid);
    assert(/^[0-9a-f-]{36}$/.test(String(played.playbackRef)), String(played.playbackRef));
    await app.next("stopped");
    const { error } = await app.next("error") as { error: Record<string, unknown> };
    assertEquals([error.type, error.code], ["ERROR", "INTERNAL"]);
    assert(/digits/i.test(String(error.message)), String(error.message));
    await app.next("hung up");
    await heard.done;

    const match = (pcm: Int16Array) => heardIn(heard.timeline(), pcm);
    const wav = match(reply);
    assert(wav >= 0.9, `the caller heard the played WAV with r = ${wav.toFixed(3)}`);
    const muted = match(await speak("This sentence is muted.", { sampleRate: 8000 }));
    assert(muted < 0.5, `the caller heard the say while muted: r = ${muted.toFixed(3)}`);
    const stopped = match(
      await speak("A long sentence that the application stops at once, before it is heard.", {
        sampleRate: 8000,
      }),
    );
    assert(stopped < 0.5, `the caller heard the stopped say: r = ${stopped.toFixed(3)}`);
    const goodbye = match(await speak("Goodbye.", { sampleRate: 8000 }));
    assert(goodbye >= 0.9, `the caller heard the say after unmute with r = ${goodbye.toFixed(3)}`);
  });
});

Deno.test("fonoster playbackControl: an unchanged app's PAUSE, UNPAUSE, RESTART, FORWARD and STOP on its play's ref are each answered (no ERROR payload) and the app goes on to its say and hangup", async () => {
  await withWavApp("control", turns8k().subarray(12_000, 20_000), async ({ app, sid, heard }) => {
    // On the old code each action but STOP got an ERROR payload and the app's await never ended.
    const { answered } = await app.next("controlled") as { answered: [string, unknown][] };
    assertEquals(
      answered,
      ["PAUSE", "UNPAUSE", "RESTART", "FORWARD", "STOP"].map((a) => [a, { mediaSessionRef: sid }]),
    );
    await app.next("hung up");
    await heard.done;
    assertEquals(app.lines.filter((l) => l.event === "error"), []);
    const r = heardIn(heard.timeline(), await speak("Goodbye.", { sampleRate: 8000 }));
    assert(r >= 0.9, `the caller heard the say after the controls with r = ${r.toFixed(3)}`);
  });
});

/**
 * A `record` app on a live call: the caller plays `feed` (from when the app says it is
 * recording) and silence after; resolves with the app's record response, the WAV and what
 * the caller heard.
 */
async function recordCall(options: Record<string, unknown>, feed: Int16Array) {
  await using app = await startFonosterApp("record", JSON.stringify(options));
  await using fx = await startAgentServer({ agents: { app: { type: "fonoster", url: app.url } } });
  const { sid, caller } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "app" });
  await app.next("recording");
  const abort = new AbortController();
  const silence = new Int16Array(8000 * 60);
  const feeding = feedUlaw(caller, feed).then(() => feedUlaw(caller, silence, abort.signal));
  const { record } = await app.next("recorded") as { record: Record<string, unknown> };
  abort.abort();
  await feeding;
  await app.next("hung up");
  await heard.done;
  assertEquals(record.mediaSessionRef, sid);
  assert(/^[A-Za-z0-9_-]{10}$/.test(String(record.name)), String(record.name));
  // WAV is the enum's zero: proto3 may leave it out.
  assertEquals(record.format ?? "WAV", "WAV");
  const wav = decodeWav(await Deno.readFile(`${fx.dataDir}/agent-recordings/${record.name}.wav`));
  assertEquals([wav.sampleRate, wav.channels], [8000, 1]);
  return { record, wav: wav.samples, heard: heard.timeline() };
}

Deno.test("fonoster record: an unchanged app's record({maxDuration: 3, beep: true}) plays the beep to the caller (r ≥ 0.9), then records 3 s of the caller (a WAV that correlates with what the caller said, r ≥ 0.9) and answers with its name and duration 3", async () => {
  const speech = turns8k().subarray(12_000);
  const { record, wav, heard } = await recordCall({ maxDuration: 3, beep: true }, speech);
  // On the old code the record verb got an ERROR payload: no "recorded" line ever came.
  assertEquals(record.duration, 3);
  assertEquals(wav.length, 3 * 8000);
  const c = bestLagCorrelation(wav, speech, { maxLag: speech.length - wav.length });
  assert(c.r >= 0.9, `the recording is the caller's audio with r = ${c.r.toFixed(3)}`);
  const b = heardIn(heard, beep());
  assert(b >= 0.9, `the caller heard the beep with r = ${b.toFixed(3)}`);
});

Deno.test("fonoster record: maxSilence ends the recording once the caller is silent that long; the silence is trimmed to 200 ms, as Asterisk's recorder does (the WAV is the caller's speech and a short tail, not maxDuration's 30 s)", async () => {
  const speech = turns8k().subarray(12_000, 28_000); // 2 s of the first turn
  const { record, wav } = await recordCall({ maxDuration: 30, maxSilence: 1 }, speech);
  assert(wav.length <= speech.length + 1600, `${wav.length} samples recorded`);
  assertEquals(record.duration, Math.floor(wav.length / 8000));
  const tail = wav.subarray(wav.length - 1600);
  assert(rms(tail) < 100, `the kept tail is silence (rms ${rms(tail).toFixed(0)})`);
  const spoken = wav.subarray(0, wav.length - 1600);
  const c = bestLagCorrelation(spoken, speech, {
    minLag: -1600,
    maxLag: speech.length - spoken.length,
    minOverlap: spoken.length - 1600,
  });
  assert(c.r >= 0.9, `the recording is the caller's speech with r = ${c.r.toFixed(3)}`);
});

Deno.test('fonoster record over a PSTN call: the RFC 4733 finishOnKey digit sipp presses ends an app\'s record({finishOnKey: "5", maxDuration: 60}); the app gets its response and hangs up (sipp gets the BYE)', async () => {
  if (!haveSipp()) return;
  await using app = await startFonosterApp(
    "record",
    JSON.stringify({ finishOnKey: "5", maxDuration: 60 }),
  );
  await using fx = await startAgentServer({
    agents: { app: { type: "fonoster", url: app.url } },
    sip: inboundToAgent("app"),
  });
  const { result } = await digitsCall(fx.server.sipPort!, "5", 3000);
  // On the old code no record response came: the app never hung up and sipp timed out.
  assertEquals(result.code, 0, result.stdout.slice(-2000) + result.stderr + app.output());
  const { record } = await app.next("recorded") as { record: Record<string, unknown> };
  assert(Number(record.duration ?? 0) < 60, JSON.stringify(record));
  const wav = decodeWav(await Deno.readFile(`${fx.dataDir}/agent-recordings/${record.name}.wav`));
  assertEquals(Math.floor(wav.samples.length / 8000), record.duration ?? 0);
});

/** A server whose agent `app` is the Fonoster app at `url` and whose one trunk is a sipp UAS. */
function trunkToUas(url: string, uasPort: number): Record<string, unknown> {
  return {
    agents: { app: { type: "fonoster", url } },
    sip: {
      listen: { host: "127.0.0.1", port: 0 },
      publicAddress: "127.0.0.1",
      trunks: [{
        name: "loop",
        address: `127.0.0.1:${uasPort}`,
        allowFrom: ["127.0.0.1"],
        outboundNumbers: ["+1"],
      }],
    },
  };
}

Deno.test("fonoster dial: an unchanged app's dial(number) places a second leg through the SIP gateway (a sipp UAS answering with RTP echo) and bridges it: the app is sent TRYING then ANSWER, the caller's speech reaches the callee and its echo comes back to the caller (r ≥ 0.9); the caller's hangup ends the dialed leg (sipp gets the BYE)", async () => {
  if (!haveSipp()) return;
  await using target = await spawnEchoUas();
  await using app = await startFonosterApp("dial", "+14155550123");
  await using fx = await startAgentServer(trunkToUas(app.url, target.port));
  const { sid, caller, events } = await fx.liveCall("g711_ulaw");
  const heard = new Recorder(caller);
  await fx.voice.agents.attach({ sid, agent: "app" });
  // On the old code dial got an ERROR payload: no dial status ever came.
  await app.next("dial ANSWER");
  const statuses = app.lines.filter((l) => String(l.event).startsWith("dial ")).map((l) => l.event);
  assertEquals(statuses, ["dial TRYING", "dial ANSWER"]);

  const speech = turns8k().subarray(12_000, 44_000);
  await feedUlaw(caller, speech);
  const echo = await heardFromOnset(heard, speech);
  assert(echo.r >= 0.9, `the caller heard the callee's echo with r = ${echo.r.toFixed(3)}`);

  await fx.voice.calls.hangup(sid);
  await events.next((e) => e.type === "status" && e.call.status === "completed");
  const uas = await target.done;
  assertEquals(uas.code, 0, new TextDecoder().decode(uas.stdout).slice(-1500));
  const { calls } = await fx.voice.calls.list({});
  const dialed = calls.find((c) => c.sid !== sid);
  assertEquals([dialed?.to, dialed?.direction], ["+14155550123", "outbound"]);
  assertEquals(app.lines.some((l) => l.event === "error"), false);
});

Deno.test("fonoster dial to a busy callee (sipp UAS answering 486): the app is sent TRYING then BUSY and its call goes on with the app", async () => {
  if (!haveSipp()) return;
  await using target = await spawnSippUas(["-sf", scenario("uas_busy.xml"), "-m", "1"]);
  await using app = await startFonosterApp("dial", "+14155550123");
  await using fx = await startAgentServer(trunkToUas(app.url, target.port));
  const { sid } = await fx.liveCall("g711_ulaw");
  await fx.voice.agents.attach({ sid, agent: "app" });
  await app.next("dial BUSY");
  const statuses = app.lines.filter((l) => String(l.event).startsWith("dial ")).map((l) => l.event);
  assertEquals(statuses, ["dial TRYING", "dial BUSY"]);
  const call = await fx.voice.calls.get(sid);
  assertEquals([call.status, call.agent.name], ["in_progress", "app"]);
});

Deno.test("fonoster: a message the engine cannot carry out (no verb in it) gets the protocol's ERROR stream payload and the app goes on (say, hangup)", async () => {
  await using app = await startFonosterApp("unknown");
  await using fx = await startAgentServer({ agents: { app: { type: "fonoster", url: app.url } } });
  const { sid, events } = await fx.liveCall("g711_ulaw");
  await fx.voice.agents.attach({ sid, agent: "app" });
  const { error } = await app.next("error") as { error: Record<string, unknown> };
  assertEquals([error.type, error.code, error.mediaSessionRef], ["ERROR", "INVALID_ARGUMENT", sid]);
  assert(String(error.message).includes("Unknown message"), String(error.message));
  await app.next("hung up");
  const ended = await events.next((e) => e.type === "status" && e.call.status === "completed");
  assertEquals(ended.type === "status" && ended.call.endReason, "hangup");
});

Deno.test("fonoster bad input: an unreachable app and an app that dies mid-call end the agent with `agent failed` saying why; the calls go on", async () => {
  await using app = await startFonosterApp("die");
  await using fx = await startAgentServer({
    agents: {
      gone: { type: "fonoster", url: `127.0.0.1:${freeTcpPort()}` },
      dies: { type: "fonoster", url: app.url },
    },
  });
  const one = await fx.liveCall("g711_ulaw");
  await fx.voice.agents.attach({ sid: one.sid, agent: "gone" });
  const gone = await one.events.next((e) => e.type === "agent" && e.state === "failed");
  assert(
    gone.type === "agent" && /UNAVAILABLE/.test(gone.reason ?? ""),
    `reason: ${JSON.stringify(gone)}`,
  );

  const two = await fx.liveCall("g711_ulaw");
  await fx.voice.agents.attach({ sid: two.sid, agent: "dies" });
  await app.next("dying");
  assertEquals(await app.exited, 3);
  const died = await two.events.next((e) => e.type === "agent" && e.state === "failed");
  assert(
    died.type === "agent" && /Fonoster app at 127\.0\.0\.1:\d+/.test(died.reason ?? ""),
    `reason: ${JSON.stringify(died)}`,
  );
  for (const sid of [one.sid, two.sid]) {
    const call = await fx.voice.calls.get(sid);
    assertEquals([call.status, call.agent.name], ["in_progress", undefined]);
  }
});
