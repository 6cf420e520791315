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
