/**
 * A real third-party user agent, baresip (Debian's `baresip`), against the gateway, one call
 * in each direction. No sound card: baresip's `aufile` module sends a speech WAV, its
 * `sndfile` module writes what it received to a WAV, and ALSA's `null` device is its player.
 * The audio is correlated both ways: what baresip sent with the call's uplink, and what the
 * gateway played on the downlink with what baresip wrote down.
 */
import { assert, assertEquals } from "@std/assert";
import { decodeUlaw, encodeUlaw } from "../../src/codecs/g711.ts";
import { decodeWav } from "../../src/codecs/wav.ts";
import type { Origin } from "../../src/relay/model/origin.ts";
import { rtpMedia } from "../../src/sip/rtp_media.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../src/voice/track.ts";
import { bestLagCorrelation } from "../_lib/correlate.ts";
import { pathExists, requireOrSkip } from "../_lib/env.ts";
import { fixturePath, readFixtureWav } from "../_lib/fixtures.ts";
import { boundSockets } from "../_lib/bound_ports.ts";
import { pace } from "../_lib/wait.ts";
import type { Call } from "../../src/calls/call.ts";
import {
  concatBytes,
  type Fixture,
  freeUdpPort,
  startGateway,
  waitForCall,
  waitForStatus,
} from "./_harness.ts";

/** Correlation both ways must reach this (G.711 end to end, real RTP timing). */
const MIN_R = 0.9;

function haveBaresip(): boolean {
  return requireOrSkip(pathExists("/usr/bin/baresip"), "baresip (Debian baresip) is not installed");
}

/**
 * A baresip with its own config dir: sends `source`, records what it receives. Resolves once
 * its SIP socket is bound, with the port (`.port`): baresip binds port 0 (one the kernel picks:
 * a port probed free here could be taken by a test beside this one before baresip binds it),
 * read back from `/proc`.
 */
async function baresip(source: string, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-baresip-" });
  await Deno.mkdir(`${dir}/conf`);
  await Deno.mkdir(`${dir}/out`);
  const rtp = freeUdpPort() & ~1;
  await Deno.writeTextFile(
    `${dir}/conf/config`,
    [
      "poll_method epoll",
      "sip_listen 127.0.0.1:0",
      "module_path /usr/lib/baresip/modules",
      ...["stdio", "g711", "aufile", "alsa", "sndfile", "account", "menu"].map((m) =>
        `module ${m}.so`
      ),
      `audio_source aufile,${source}`,
      "audio_player alsa,null",
      "audio_alert alsa,null",
      `snd_path ${dir}/out`,
      `rtp_ports ${rtp}-${rtp + 40}`,
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${dir}/conf/accounts`,
    "<sip:baresip@127.0.0.1>;regint=0;answermode=auto\n",
  );
  if (Deno.env.get("SIP_LOG")) console.error("baresip dir", dir);
  const child = new Deno.Command("/usr/bin/baresip", {
    args: ["-f", `${dir}/conf`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let printed = "";
  const heard: { text: string; done: () => void }[] = [];
  const output = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      printed += chunk;
      for (const wait of heard) if (printed.includes(wait.text)) wait.done();
    }
    return await child.status;
  })();
  let exited = false;
  output.then(() => exited = true, () => exited = true);
  /** Kills baresip (if it still runs) and removes its dir. */
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch (error) {
      if (!(error instanceof TypeError)) throw error; // exited already
    }
    await output;
    await Deno.remove(dir, { recursive: true });
  };
  // Its SIP socket is its first UDP socket on 127.0.0.1 (lowest fd: RTP sockets come later,
  // with a call).
  let port: number | undefined;
  for (let attempt = 0; port === undefined; attempt++) {
    port = (await boundSockets(child.pid, "udp")).find((s) => s.host === "127.0.0.1")?.port;
    if (port !== undefined) break;
    if (exited || attempt > 600) {
      await stop();
      throw new Error(`baresip bound no SIP port; it printed:\n${printed}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    port,
    output,
    /** What baresip printed so far (for a failure's message). */
    text: () => printed,
    /** Resolves once baresip has printed `text` (e.g. that its call terminated). */
    printed(text: string): Promise<void> {
      if (printed.includes(text)) return Promise.resolve();
      const { promise, resolve } = Promise.withResolvers<void>();
      heard.push({ text, done: resolve });
      return Promise.race([
        promise,
        output.then(() => {
          if (!printed.includes(text)) throw new Error(`baresip exited without "${text}"`);
        }),
      ]);
    },
    /** The audio baresip received (its sndfile "decode" dump), as 8 kHz PCM. */
    async received(): Promise<Int16Array> {
      for await (const entry of Deno.readDir(`${dir}/out`)) {
        if (entry.name.endsWith("-dec.wav")) {
          return decodeWav(await Deno.readFile(`${dir}/out/${entry.name}`)).samples;
        }
      }
      throw new Error("baresip wrote no received audio");
    },
    [Symbol.asyncDispose]: stop,
  };
}

/** Collects the call's uplink payloads (µ-law) as they arrive. */
function recordUplink(origin: Origin): Disposable & { readonly payloads: Uint8Array[] } {
  const payloads: Uint8Array[] = [];
  const route = origin.route("voice/*", async (track) => {
    if (track.info.name !== "uplink") return track.close();
    for (let group; (group = await track.nextGroup());) {
      for (let object; (object = await group.readObject());) payloads.push(object.payload.slice());
    }
  });
  return { payloads, [Symbol.dispose]: () => route[Symbol.dispose]() };
}

/** Plays `pcm` (8 kHz) on the call's downlink as µ-law, in real time, once the leg listens. */
async function playDownlink(fx: Fixture, sid: string, pcm: Int16Array): Promise<void> {
  const downlink = fx.origin.publishTrack({
    namespace: ["voice", sid],
    name: "downlink",
    capability: "voice/g711_ulaw",
  });
  await fx.waitFor(() => downlink.consumers > 0 ? ({} as never) : undefined);
  const start = nowMicros();
  const frames = Math.floor(pcm.length / 160);
  for (let g = 0; g * FRAMES_PER_GROUP < frames; g++) {
    const group = downlink.appendGroup(g);
    for (let id = 0; id < FRAMES_PER_GROUP && g * FRAMES_PER_GROUP + id < frames; id++) {
      const i = g * FRAMES_PER_GROUP + id;
      group.write({
        id,
        payload: encodeUlaw(pcm.subarray(i * 160, (i + 1) * 160)),
        timestamp: Math.round(start + i * 20_000),
      });
    }
    group.close();
    // A real-time source (as a TTS engine writes): 10 frames of 20 ms per group.
    await pace(200);
  }
  downlink.close();
}

/** Asserts both directions correlate: baresip's source on the uplink, our audio at baresip. */
function assertAudioBothWays(uplink: Uint8Array[], sent: Int16Array, atBaresip: Int16Array) {
  const speech = readFixtureWav("speech-8k.wav").samples;
  const up = bestLagCorrelation(speech, decodeUlaw(concatBytes(uplink)), {
    minLag: -8000,
    maxLag: 16_000,
    minOverlap: 16_000,
  });
  const down = bestLagCorrelation(sent, atBaresip, {
    minLag: -8000,
    maxLag: 24_000,
    minOverlap: 12_000,
  });
  console.log(
    `uplink (baresip's WAV) r=${up.r.toFixed(3)} lag ${up.lag}; downlink at baresip r=${
      down.r.toFixed(3)
    } lag ${down.lag} (${atBaresip.length} samples)`,
  );
  assert(up.r >= MIN_R, `uplink r=${up.r.toFixed(3)}`);
  assert(down.r >= MIN_R, `downlink at baresip r=${down.r.toFixed(3)}`);
  // A control: the same audio a second off, at the lag found, does not match (r is not a
  // property of any speech).
  const control = bestLagCorrelation(sent.subarray(8000), atBaresip, {
    minLag: down.lag - 800,
    maxLag: down.lag + 800,
    minOverlap: 8000,
  });
  assert(control.r < 0.5, `control r=${control.r.toFixed(3)}`);
}

type Baresip = Awaited<ReturnType<typeof baresip>>;

/**
 * Starts a baresip that dials `target` and resolves once the gateway has answered its call.
 * A baresip whose INVITE never reached the gateway (it could not bind the RTP range it was
 * given — ports chosen free a moment earlier, which a test running beside it may have taken;
 * its SIP port it binds itself) is started again with a fresh range, at most three times; once the gateway has heard of
 * a call, the call's outcome is the test's, and a failure says what baresip printed.
 */
async function dialFromBaresip(
  fx: Fixture,
  target: string,
): Promise<AsyncDisposable & { readonly ua: Baresip; readonly answered: Call }> {
  for (let attempt = 1;; attempt++) {
    const ua = await baresip(fixturePath("speech-8k.wav"), [
      "-e",
      `/dial ${target}`,
      "-t",
      "30",
    ]);
    const answered = await Promise.race([
      waitForStatus(fx, "in_progress", 30_000).catch(() => undefined),
      ua.output.then(() => undefined), // baresip exited: it will not call
    ]);
    if (answered) return { ua, answered, [Symbol.asyncDispose]: () => ua[Symbol.asyncDispose]() };
    const printed = ua.text();
    await ua[Symbol.asyncDispose]();
    const reached = fx.events.length > 0; // the gateway made a call of the INVITE
    if (reached || attempt === 3) {
      throw new Error(
        `baresip's call ${
          reached ? "reached the gateway but was not answered" : "never reached the gateway"
        } ` +
          `(attempt ${attempt}); baresip printed:\n${printed}\ngateway log:\n${
            fx.logs.slice(-20).join("\n")
          }`,
      );
    }
    console.log(
      `baresip's INVITE never reached the gateway (attempt ${attempt}): starting it again\n${printed}`,
    );
  }
}

/** What the gateway plays to baresip: 3 s of the other speech fixture. */
const played = () => readFixtureWav("turns-8k.wav").samples.subarray(8000, 32_000);

Deno.test("baresip: a call from baresip is answered; its WAV arrives on the uplink and our downlink arrives at baresip (both r ≥ 0.9)", async () => {
  if (!haveBaresip()) return;
  await using fx = await startGateway({
    sip: { inbound: [{ match: "*", action: { plugin: "listener" } }] },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  using uplink = recordUplink(fx.origin);
  await using dialed = await dialFromBaresip(fx, `sip:+14155550199@127.0.0.1:${fx.port}`);
  const { ua, answered } = dialed;
  assertEquals(answered.direction, "inbound");
  const sent = played();
  await playDownlink(fx, answered.sid, sent);
  // baresip hangs up when its WAV ends (about 5 s).
  const ended = await waitForCall(fx, answered.sid, "completed", 60_000);
  assertEquals(ended.endReason, "caller_hangup");
  // Its call over, baresip has closed the WAV of what it received.
  await ua.printed("terminated (duration");
  assertAudioBothWays(uplink.payloads, sent, await ua.received());
});

Deno.test("baresip: a call to baresip (auto-answer) reaches in_progress; its WAV arrives on the uplink and our downlink arrives at baresip (both r ≥ 0.9)", async () => {
  if (!haveBaresip()) return;
  await using ua = await baresip(fixturePath("speech-8k.wav"), ["-t", "60"]);
  const port = ua.port;
  await using fx = await startGateway({
    sip: {
      trunks: [{
        name: "baresip",
        address: `127.0.0.1:${port}`,
        allowFrom: ["127.0.0.1"],
      }],
    },
    media: (origin) => rtpMedia({ origin, hostname: "127.0.0.1" }),
  });
  using uplink = recordUplink(fx.origin);
  // baresip answers only its own user (404 otherwise); its host is the trunk's.
  const call = await fx.calls.originate({
    from: "+14155550100",
    to: `sip:baresip@127.0.0.1:${port}`,
  });
  const answered = await waitForCall(fx, call.sid, "in_progress", 30_000);
  const sent = played();
  await playDownlink(fx, answered.sid, sent);
  const ended = await waitForCall(fx, call.sid, "completed", 60_000);
  assertEquals(ended.endReason, "caller_hangup");
  await ua.printed("terminated (duration");
  assertAudioBothWays(uplink.payloads, sent, await ua.received());
});
