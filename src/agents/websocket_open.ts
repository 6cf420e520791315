/**
 * Waiting for an agent's WebSocket to open, shared by the adapters that dial a bot or a
 * realtime server.
 *
 * @module
 */

/**
 * Resolves once `ws` is open; rejects (and closes the socket) when it fails, closes, takes longer
 * than `timeoutMs`, or `signal` aborts first. `peer` names the far end in the timeout message.
 *
 * @example
 * ```ts ignore
 * const ws = new WebSocket("ws://127.0.0.1:9000/bot");
 * await websocketOpened(ws, AbortSignal.timeout(30_000), { peer: "the bot", timeoutMs: 10_000 });
 * ```
 */
export function websocketOpened(
  ws: WebSocket,
  signal: AbortSignal,
  options: { readonly peer: string; readonly timeoutMs: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`${options.peer} did not answer in time`)),
      options.timeoutMs,
    );
    const onAbort = () => finish(new Error("the agent was detached while connecting"));
    signal.addEventListener("abort", onAbort, { once: true });
    // A signal aborted before the call fires no event: detach at once.
    if (signal.aborted) return onAbort();
    ws.onopen = () => finish();
    ws.onerror = (event) => finish(new Error((event as ErrorEvent).message || "connection failed"));
    ws.onclose = (event) => finish(new Error(`connection closed (code ${event.code})`));
    function finish(error?: Error) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      ws.onopen = ws.onerror = ws.onclose = null;
      if (!error) return resolve();
      try {
        ws.close();
      } catch (cause) {
        // Closing a socket that never opened can throw; the connect error is what matters.
        void cause;
      }
      reject(error);
    }
  });
}
