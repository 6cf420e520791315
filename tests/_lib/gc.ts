/**
 * Forced garbage collection for memory tests: only a forced GC tells a retained object from
 * garbage. Without `--expose-gc` a test reruns itself in a child Deno that has it.
 *
 * @module
 */
import { assert, assertEquals } from "@std/assert";

/** V8's `gc()` when Deno runs with `--v8-flags=--expose-gc`, else undefined. */
export const gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

/**
 * Runs the tests of `file` whose names contain `filter` in a child `deno test` with the GC
 * exposed, and asserts that exactly one ran and passed (its output tail on failure).
 */
export async function rerunWithExposedGc(file: string | URL, filter: string): Promise<void> {
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--unstable-net",
      "--unstable-kv",
      "--v8-flags=--expose-gc",
      "--filter",
      filter,
      file instanceof URL ? file.pathname : file,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(child.stdout) + new TextDecoder().decode(child.stderr);
  assertEquals(child.code, 0, out.slice(-4000));
  assert(/1 passed/.test(out), out.slice(-2000));
}
