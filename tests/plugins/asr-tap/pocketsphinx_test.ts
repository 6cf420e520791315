import { assertGreaterOrEqual } from "@std/assert";
import { encodeWav } from "../../../src/codecs/wav.ts";
import { FRAMES_PER_GROUP, nowMicros } from "../../../src/voice/track.ts";
import { pcm16ToBytes } from "../../../src/codecs/pcm16.ts";
import { pathExists, requireOrSkip } from "../../_lib/env.ts";
import { fixturePath, readFixtureWav } from "../../_lib/fixtures.ts";
import { startFakeRecognizer } from "./_recognizers.ts";
import { startTapHost } from "./_host.ts";

const TEXT = "thank you for calling please say the name of the person you would like to reach";
/** A small grammar: any sequence of the IVR's words (and digits). */
const GRAMMAR = `#JSGF V1.0;
grammar ivr;
public <utterance> = <word>+;
<word> = ${
  [
    ...new Set(
      TEXT.split(" ").concat("zero one two three four five six seven eight nine".split(" ")),
    ),
  ]
    .join(" | ")
};
`;

async function pocketsphinx(wav: string, grammar: string): Promise<string> {
  const out = await new Deno.Command("/usr/bin/pocketsphinx_continuous", {
    args: ["-infile", wav, "-jsgf", grammar, "-logfn", "/dev/null"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").join(" ").trim();
}

/** 1 − word error rate (Levenshtein over words), floored at 0. */
function wordAccuracy(reference: string, hypothesis: string): number {
  const r = reference.split(/\s+/), h = hypothesis.split(/\s+/).filter(Boolean);
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const row = [i];
    for (let j = 1; j <= h.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return Math.max(0, 1 - prev[h.length] / r.length);
}

Deno.test({
  name:
    "sanity check with a real offline recognizer: pocketsphinx (small grammar) hears in what the tap sent as many words of speech-16k.wav as in the file itself",
  ignore: !requireOrSkip(
    pathExists("/usr/bin/pocketsphinx_continuous") &&
      pathExists("/usr/share/pocketsphinx/model/en-us/en-us"),
    "pocketsphinx and pocketsphinx-en-us are not installed",
  ),
  fn: async () => {
    await using fake = startFakeRecognizer({ protocol: "deepgram", key: "k", utterances: [TEXT] });
    await using tap = await startTapHost(
      { provider: "deepgram", url: fake.url, gateSilence: false },
      "k",
    );
    const source = readFixtureWav("speech-16k.wav").samples;
    const track = tap.origin.publishTrack({
      namespace: ["voice", "CAsphinx"],
      name: "uplink",
      capability: "voice/pcm16",
    });
    const t0 = nowMicros();
    let group;
    for (let k = 0; (k + 1) * 320 <= source.length; k++) {
      if (k % FRAMES_PER_GROUP === 0) {
        group?.close();
        group = track.appendGroup();
      }
      group!.write({
        id: k % FRAMES_PER_GROUP,
        payload: pcm16ToBytes(source.subarray(k * 320, (k + 1) * 320)),
        timestamp: t0 + k * 20_000,
      });
      if (k % 10 === 9) await new Promise((r) => setTimeout(r, 0));
    }
    group?.close();
    track.close();
    await fake.until(() => fake.connections[0]?.closedNow === true, "the stream closed");
    const dir = await Deno.makeTempDir({ prefix: "clutchcall-asr-sphinx-" });
    try {
      await Deno.writeTextFile(`${dir}/ivr.gram`, GRAMMAR);
      const received = fake.connections[0].pcm();
      await Deno.writeFile(
        `${dir}/received.wav`,
        encodeWav({ sampleRate: 16000, channels: 1, samples: received }),
      );
      const fromFile = await pocketsphinx(fixturePath("speech-16k.wav"), `${dir}/ivr.gram`);
      const fromTap = await pocketsphinx(`${dir}/received.wav`, `${dir}/ivr.gram`);
      const file = wordAccuracy(TEXT, fromFile), sent = wordAccuracy(TEXT, fromTap);
      console.log(
        `pocketsphinx word accuracy: file ${(file * 100).toFixed(0)}% ("${fromFile}"), ` +
          `through the tap ${(sent * 100).toFixed(0)}% ("${fromTap}")`,
      );
      assertGreaterOrEqual(sent, file - 0.1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
