/**
 * Connecting `npm:@moq/net` 0.3.4, the foreign draft-14 peer of the interop and shard tests, to
 * one of our relays: over WebTransport only (its WebSocket fallback disabled), trusting the
 * test certificate by its hash, with its debug chatter silenced and its one known unhandled
 * rejection tolerated.
 *
 * @module
 */
import { Connection } from "@moq/net";

/** Connects @moq/net to `url` (e.g. `https://127.0.0.1:<port>/moq?jwt=…`) over WebTransport. */
export function connectMoqNet(
  url: string | URL,
  certSha256Hex: string,
): Promise<Connection.Established> {
  return Connection.connect(new URL(url), {
    webtransport: { serverCertificateHashes: [{ value: certSha256Hex }] },
    websocket: { enabled: false },
  });
}

/** Silences @moq/net's `console.debug` chatter until disposed. */
export function quietDebug(): Disposable {
  const original = console.debug;
  console.debug = () => {};
  return { [Symbol.dispose]: () => void (console.debug = original) };
}

let tolerating = false;

/**
 * Tolerates one known @moq/net 0.3.4 bug for the whole test module that calls it: when its
 * connection closes under a publisher (a test closing it, or the relay's teardown), the
 * publisher still tries to open a group stream from a promise nobody awaits
 * (`void this.#runGroup(...)` in ietf/publisher.js), and Deno reports the failed open as an
 * unhandled rejection ("maximum number of concurrent outgoing unidirectional streams"). Only
 * that rejection, raised from @moq/net's own code, is swallowed; any other unhandled rejection
 * still fails the run. Calling it again is a no-op.
 */
export function tolerateMoqNetClosingBug(): void {
  if (tolerating) return;
  tolerating = true;
  globalThis.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason;
    if (
      reason instanceof RangeError &&
      reason.message.includes("concurrent outgoing unidirectional streams") &&
      String(reason.stack).includes("@moq/net")
    ) {
      event.preventDefault();
    }
  });
}
