/**
 * Startup failures: every way the server can fail to start (a port in use, an unreadable
 * certificate, a plugin that cannot be loaded) becomes one {@linkcode StartupError} whose message
 * is the single line `main.ts` prints before exiting non-zero.
 *
 * @module
 */

/**
 * The server could not start; `message` says what and why in one line, `cause` keeps the
 * original error for logs.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { StartupError } from "@clutchcall/voice/server";
 *
 * const error = new StartupError("Cannot listen for HTTP on 127.0.0.1:8080: address already in use");
 * assertEquals([error.name, error.message.startsWith("Cannot listen")], ["StartupError", true]);
 * ```
 */
export class StartupError extends Error {
  /** Wraps `cause` under `what` (e.g. `Cannot listen for HTTP on 127.0.0.1:8080`). */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartupError";
  }
}

/**
 * Runs one startup step; any error it throws becomes a {@linkcode StartupError} reading
 * `<what>: <reason>`, where the reason is said in words for the OS errors a step meets
 * (address in use, no such file, permission denied) and is the error's own message otherwise.
 *
 * @example
 * ```ts
 * import { assertEquals, assertRejects } from "@std/assert";
 * import { startupStep, StartupError } from "./startup_error.ts";
 *
 * const error = await assertRejects(
 *   () => startupStep("Cannot read the certificate", () => Deno.readTextFile("/nonexistent.pem")),
 *   StartupError,
 *   "Cannot read the certificate: ",
 * );
 * assertEquals(error.cause instanceof Deno.errors.NotFound, true);
 * assertEquals(await startupStep("Cannot count", () => 42), 42);
 * ```
 */
export async function startupStep<T>(what: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StartupError) throw error;
    const reason = reasonOf(error);
    // A reason that already says what could not be done ("Cannot load certificate: …") is the
    // whole line; otherwise `what` gives it its context.
    throw new StartupError(reason.startsWith("Cannot ") ? reason : `${what}: ${reason}`, {
      cause: error,
    });
  }
}

/** A one-line reason for `error`, without a stack. */
function reasonOf(error: unknown): string {
  // Our own errors already say what failed; OS errors from Deno get words instead of codes.
  if (error instanceof Error && error.message.startsWith("Cannot ")) {
    return error.message.split("\n", 1)[0];
  }
  if (error instanceof Deno.errors.AddrInUse) return "address already in use";
  if (error instanceof Deno.errors.AddrNotAvailable) return "address not available";
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  const message = error instanceof Error ? error.message : String(error);
  // One line: a multi-line message (a module's syntax error, say) keeps its first line.
  return message.split("\n", 1)[0].trim() || String(error);
}
