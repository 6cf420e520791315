import { assertEquals, assertGreater, assertThrows } from "@std/assert";
import { decodeAlaw, decodeUlaw, encodeAlaw, encodeUlaw } from "../../src/codecs/g711.ts";
import { pcm16FromBytes, pcm16ToBytes } from "../../src/codecs/pcm16.ts";
import { pathExists, requireOrSkip } from "../_lib/env.ts";
import { FIXTURES } from "./_signal.ts";

const HAS_SOX = pathExists("/usr/bin/sox") || pathExists("/usr/local/bin/sox");
const LAWS = [
  { law: "u-law", encode: encodeUlaw, decode: decodeUlaw },
  { law: "a-law", encode: encodeAlaw, decode: decodeAlaw },
] as const;

/** Runs sox; `-D` turns off sox's automatic dither, which would randomize the low bits. */
async function sox(args: string[], input?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("sox", {
    args: ["-D", ...args],
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const writer = child.stdin.getWriter();
    await writer.write(input);
    await writer.close();
  }
  const { success, stdout, stderr } = await child.output();
  if (!success) throw new Error(`sox failed: ${new TextDecoder().decode(stderr)}`);
  return stdout;
}

const RAW16 = ["-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1"];

for (const { law, encode, decode } of LAWS) {
  Deno.test(`G.711 ${law} encoding of the speech fixture is bit-exact with sox`, async () => {
    if (!requireOrSkip(HAS_SOX, "sox is not installed (apt-get install -y sox)")) return;
    const expected = await sox([`${FIXTURES}/speech-8k.wav`, "-t", "raw", "-e", law, "-"]);
    const wav = await sox([`${FIXTURES}/speech-8k.wav`, ...RAW16, "-"]);
    assertGreater(expected.length, 39000); // about 5 s at 8 kHz
    assertEquals(encode(pcm16FromBytes(wav)), expected);
  });

  Deno.test(`G.711 ${law} encoding of every 16-bit value is bit-exact with sox`, async () => {
    if (!requireOrSkip(HAS_SOX, "sox is not installed (apt-get install -y sox)")) return;
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    const expected = await sox([...RAW16, "-", "-t", "raw", "-e", law, "-"], pcm16ToBytes(all));
    const actual = encode(all);
    const mismatches = actual.filter((code, i) => code !== expected[i]).length;
    assertEquals(mismatches, 0);
  });

  Deno.test(`G.711 ${law} decoding of all 256 codes is bit-exact with sox`, async () => {
    if (!requireOrSkip(HAS_SOX, "sox is not installed (apt-get install -y sox)")) return;
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const expected = pcm16FromBytes(
      await sox(
        ["-t", "raw", "-r", "8000", "-e", law, "-c", "1", "-", ...RAW16.slice(0, 8), "-"],
        codes,
      ),
    );
    assertEquals(decode(codes), expected);
  });

  Deno.test(`G.711 ${law} decoding a G.711 code and encoding it again gives the same code`, () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const again = encode(decode(codes));
    for (let code = 0; code < 256; code++) {
      // µ-law has two codes for zero (0x7f is "−0"); the encoder emits 0xff for it.
      const expected = law === "u-law" && code === 0x7f ? 0xff : code;
      assertEquals(again[code], expected, `code 0x${code.toString(16)}`);
    }
  });

  Deno.test(`G.711 ${law} writes into a caller's buffer and rejects a short one`, () => {
    const pcm = new Int16Array([0, 1000, -1000, 32767]);
    const out = new Uint8Array(8);
    const written = encode(pcm, out);
    assertEquals(written.length, 4);
    assertEquals(written.buffer, out.buffer);
    assertEquals(decode(written, new Int16Array(4)).length, 4);
    assertThrows(() => encode(pcm, new Uint8Array(3)), RangeError);
  });
}

Deno.test("G.711 reconstruction levels match the standard's end points", () => {
  const codes = new Uint8Array([0x00, 0x80, 0xff, 0x7f, 0x2a, 0xaa, 0xd5, 0x55]);
  assertEquals(Array.from(decodeUlaw(codes.subarray(0, 4))), [-32124, 32124, 0, 0]);
  assertEquals(Array.from(decodeAlaw(codes.subarray(4))), [-32256, 32256, 8, -8]);
});
