/**
 * Runs the C unit tests of ffi/ (`ffi/<folder>/test_*.c`, built by `deno task build:native
 * --tests`, which the test setup runs): one test per binary, passing when it exits 0.
 *
 * @module
 */
import { assert } from "@std/assert";
import { buildNativeTests } from "../../scripts/build_native.ts";

// Built into a temporary directory, so a running suite never races the tree's ffi/build/.
const out = Deno.makeTempDirSync({ prefix: "cc-native-test-" });
const binaries = buildNativeTests(out);

Deno.test("ffi has C unit tests to run", () => {
  assert(binaries.some((b) => b.endsWith("/test_ring")), `built: ${binaries.join(", ")}`);
});

for (const binary of binaries) {
  Deno.test(`C unit test ${binary.slice(binary.lastIndexOf("/") + 1)} passes`, async () => {
    const result = await new Deno.Command(binary, { stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
    assert(result.success, `${binary} exited ${result.code}:\n${text}`);
  });
}

globalThis.addEventListener("unload", () => Deno.removeSync(out, { recursive: true }));
