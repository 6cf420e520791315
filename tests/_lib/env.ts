/**
 * The skip policy for tests that need something a machine may not give: outside CI such a
 * test skips with a loud reason; under `CI=true` nothing may skip, so it fails instead.
 *
 * @module
 */

/** True when running under CI (`CI=true`). */
export const IN_CI: boolean = Deno.env.get("CI") === "true";

/**
 * Returns `true` when the test may go on. When `available` is false it throws under CI and
 * otherwise logs the reason and returns `false` so the caller returns early.
 *
 * @example
 * ```ts
 * Deno.test("sox agrees", () => {
 *   if (!requireOrSkip(hasSox(), "sox is not installed")) return;
 * });
 * ```
 */
export function requireOrSkip(available: boolean, reason: string): boolean {
  if (available) return true;
  if (IN_CI) throw new Error(`Required under CI but unavailable: ${reason}`);
  console.warn(`\n!!! SKIPPED: ${reason}\n`);
  return false;
}

/** True when `path` exists. */
export function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
