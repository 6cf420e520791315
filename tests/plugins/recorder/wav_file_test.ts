import { assertEquals } from "@std/assert";
import { repairWavFile, StreamingWavFile } from "../../../src/plugins/recorder/wav_file.ts";
import { decodeWav } from "../../../src/codecs/wav.ts";

Deno.test("a streaming WAV is valid after every append, and repair adopts a torn tail", async () => {
  const path = await Deno.makeTempFile({ suffix: ".wav" });
  const wav = await StreamingWavFile.create(path, { sampleRate: 8000, channels: 2 });
  await wav.append(new Int16Array([1, 2, 3, 4]));
  const mid = decodeWav(await Deno.readFile(path));
  assertEquals([...mid.samples], [1, 2, 3, 4]);
  await wav.close();
  // A crash after writing samples but before the sizes: 3 whole bytes more + a torn one.
  await Deno.writeFile(path, new Uint8Array([5, 0, 6, 0, 9]), { append: true });
  assertEquals((await repairWavFile(path)).dataBytes, 12);
  const bytes = await Deno.readFile(path);
  assertEquals(bytes.length, 56);
  const view = new DataView(bytes.buffer);
  assertEquals([view.getUint32(4, true), view.getUint32(40, true)], [48, 12]);
  assertEquals([...decodeWav(bytes).samples], [1, 2, 3, 4, 5, 6]);
  assertEquals((await repairWavFile(path)).repaired, false);
  await Deno.remove(path);
});

Deno.test("the sizes are rewritten in one write of header bytes 4-43, so a crash cannot leave one size updated and not the other", async () => {
  const path = await Deno.makeTempFile({ suffix: ".wav" });
  // Every write the file makes after its data, with the position it was made at.
  const writes: { at: number; length: number }[] = [];
  const proto = Deno.FsFile.prototype;
  const { write, seek } = proto;
  let position = 0;
  proto.seek = async function (offset: number | bigint, whence: Deno.SeekMode) {
    position = Number(await seek.call(this, offset, whence));
    return position;
  };
  proto.write = async function (bytes: Uint8Array) {
    const n = await write.call(this, bytes);
    writes.push({ at: position, length: n });
    position += n;
    return n;
  };
  try {
    await using wav = await StreamingWavFile.create(path, { sampleRate: 8000, channels: 1 });
    writes.length = 0;
    await wav.append(new Int16Array(160));
    await wav.append(new Int16Array(160));
  } finally {
    proto.seek = seek;
    proto.write = write;
  }
  assertEquals(writes, [
    { at: 44, length: 320 }, // the samples,
    { at: 4, length: 40 }, // then both sizes at once
    { at: 364, length: 320 },
    { at: 4, length: 40 },
  ]);
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer);
  assertEquals([view.getUint32(4, true), view.getUint32(40, true)], [36 + 640, 640]);
  assertEquals(decodeWav(bytes).samples.length, 320);
  await Deno.remove(path);
});
