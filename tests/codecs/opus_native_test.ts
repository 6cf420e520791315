import {
  assertEquals,
  assertGreater,
  assertGreaterOrEqual,
  assertStringIncludes,
} from "@std/assert";
import { createOpusDecoder, createOpusEncoder } from "../../src/codecs/opus.ts";
import { ensureOpusShim, nativeOpusStatus } from "../../src/codecs/opus_native.ts";
import { requireOrSkip } from "../_lib/env.ts";
import { align, chunks, readFixture } from "./_signal.ts";

const STATUS = nativeOpusStatus();
const ready = () => requireOrSkip(STATUS.available, `native libopus unavailable: ${STATUS.reason}`);
const ROOT = new URL("../../", import.meta.url);

Deno.test("opus native reports the libopus version it loaded", () => {
  if (!ready()) return;
  assertStringIncludes(STATUS.version!, "libopus");
});

Deno.test("opus native rebuilds the shim when it is older than its source", () => {
  if (!ready()) return;
  const path = ensureOpusShim();
  const source = new URL("ffi/opus/opus_shim.c", ROOT).pathname;
  Deno.utimeSync(path, new Date(0), new Date(0));
  assertEquals(ensureOpusShim(), path);
  assertGreaterOrEqual(
    Deno.statSync(path).mtime!.getTime(),
    Deno.statSync(source).mtime!.getTime(),
  );
});

Deno.test("opus native falls back to WASM with a logged reason when CLUTCHCALL_OPUS_LIB is wrong", async () => {
  if (!ready()) return;
  const code = `
    import { createOpusEncoder } from "${new URL("src/codecs/opus.ts", ROOT).href}";
    using encoder = createOpusEncoder({ sampleRate: 8000 });
    console.log("backend=" + encoder.backend);
  `;
  const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT.pathname,
    env: { CLUTCHCALL_OPUS_LIB: "/nonexistent/libopus.so.0", NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout), err = new TextDecoder().decode(stderr);
  assertStringIncludes(out, "backend=wasm");
  assertStringIncludes(err, "/nonexistent/libopus.so.0");
});

Deno.test("opus native in-band FEC rebuilds lost frames better than concealment", () => {
  if (!ready()) return;
  const { samples } = readFixture("speech-16k.wav");
  using encoder = createOpusEncoder({
    sampleRate: 16000,
    bitrate: 32000,
    fec: true,
    packetLossPercent: 20,
    backend: "native",
  });
  const packets = chunks(samples, 320).filter((c) => c.length === 320).map((c) =>
    encoder.encode(c)
  );
  using reference = createOpusDecoder({ sampleRate: 16000, backend: "native" });
  const clean = packets.map((p) => reference.decode(p));
  using withFec = createOpusDecoder({ sampleRate: 16000, backend: "native" });
  using withPlc = createOpusDecoder({ sampleRate: 16000, backend: "native" });
  assertEquals(withFec.fecSupported, true);
  let fecError = 0, plcError = 0, fecCorrelation = 0, lost = 0;
  for (let i = 0; i < packets.length; i++) {
    if (i % 7 === 3 && i + 1 < packets.length) {
      const fec = withFec.decodeFec(packets[i + 1]);
      const plc = withPlc.decode(null);
      assertEquals(fec.length, 320);
      for (let j = 0; j < 320; j++) {
        fecError += (fec[j] - clean[i][j]) ** 2;
        plcError += (plc[j] - clean[i][j]) ** 2;
      }
      fecCorrelation += align(clean[i], fec, 0).correlation;
      lost++;
      continue;
    }
    withFec.decode(packets[i]);
    withPlc.decode(packets[i]);
  }
  const gainDb = 10 * Math.log10(plcError / fecError);
  // Measured: FEC's error energy is ~9 dB below concealment's on this fixture.
  assertGreater(gainDb, 3, `FEC gain over PLC: ${gainDb.toFixed(1)} dB`);
  assertGreater(fecCorrelation / lost, 0.5);
});
