import { assert, assertEquals, assertGreater, assertStringIncludes } from "@std/assert";
import { createOpusDecoder, createOpusEncoder } from "../../src/codecs/opus.ts";
import { nativeOpusStatus, opusShimPath } from "../../src/codecs/opus_native.ts";
import { requireOrSkip } from "../_lib/env.ts";
import { align, chunks, readFixture } from "./_signal.ts";

const STATUS = nativeOpusStatus();
const ready = () => requireOrSkip(STATUS.available, `native libopus unavailable: ${STATUS.reason}`);
const ROOT = new URL("../../", import.meta.url);

Deno.test("opus native reports the libopus version it loaded", () => {
  if (!ready()) return;
  assertStringIncludes(STATUS.version!, "libopus");
});

Deno.test("deno task build:native builds the shim (into a fresh directory, renamed into place) and it loads", async () => {
  if (!ready()) return;
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-native-" });
  try {
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("scripts/build_native.ts", ROOT).pathname, `--out=${dir}`],
      cwd: ROOT.pathname,
    }).output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    const built = `${dir}/libopus_shim.so`;
    // Every library is renamed into place: the shim is there, no temporary file is left.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    assert(names.includes("libopus_shim.so"), names.join(", "));
    assertEquals(names.filter((name) => name.endsWith(".tmp")), [], names.join(", "));
    // The build it made is what the library loads when pointed at it.
    const probe = await runWith({ CLUTCHCALL_OPUS_SHIM: built });
    assertStringIncludes(probe.out, "backend=native");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // And the library itself only looks the local build up.
  assertEquals(opusShimPath(), new URL("ffi/build/libopus_shim.so", ROOT).pathname);
});

Deno.test("opus native never builds at run time: an unbuilt checkout runs Opus on WASM and says why", async () => {
  if (!ready()) return;
  // A checkout with the shim's source but no ffi/build/: the code as it ships, unbuilt.
  const root = await Deno.makeTempDir({ prefix: "clutchcall-unbuilt-" });
  try {
    await Deno.mkdir(`${root}/src/codecs`, { recursive: true });
    await Deno.mkdir(`${root}/ffi/opus`, { recursive: true });
    for (const entry of Deno.readDirSync(new URL("src/codecs/", ROOT))) {
      if (entry.isFile) {
        await Deno.copyFile(
          new URL(`src/codecs/${entry.name}`, ROOT),
          `${root}/src/codecs/${entry.name}`,
        );
      }
    }
    await Deno.copyFile(new URL("ffi/opus/opus_shim.c", ROOT), `${root}/ffi/opus/opus_shim.c`);
    const code = `
      import { createOpusEncoder } from "file://${root}/src/codecs/opus.ts";
      using encoder = createOpusEncoder({ sampleRate: 8000 });
      console.log("backend=" + encoder.backend);
    `;
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--config", new URL("deno.json", ROOT).pathname, code],
      cwd: ROOT.pathname,
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(stdout), err = new TextDecoder().decode(stderr);
    assertStringIncludes(out, "backend=wasm", err);
    assertStringIncludes(err, "deno task build:native");
    const built = [...Deno.readDirSync(`${root}/ffi`)].map((e) => e.name);
    assertEquals(built, ["opus"], "nothing was compiled at run time");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Makes an encoder in a fresh `deno eval` with `env`, printing its backend. */
async function runWith(env: Record<string, string>): Promise<{ out: string; err: string }> {
  const code = `
    import { createOpusEncoder } from "${new URL("src/codecs/opus.ts", ROOT).href}";
    using encoder = createOpusEncoder({ sampleRate: 8000 });
    console.log("backend=" + encoder.backend);
  `;
  const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: ROOT.pathname,
    env: { ...env, NO_COLOR: "1" },
  }).output();
  return { out: new TextDecoder().decode(stdout), err: new TextDecoder().decode(stderr) };
}

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
