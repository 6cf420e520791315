import { assertRejects } from "@std/assert";
import { websocketOpened } from "../../src/agents/websocket_open.ts";

const options = { peer: "the bot", timeoutMs: 30_000 };

Deno.test("websocketOpened resolves once a real server accepts the upgrade", async () => {
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = () => {};
    return response;
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/bot`);
  const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
  await websocketOpened(ws, new AbortController().signal, options);
  ws.close();
  await closed;
});

Deno.test("websocketOpened rejects when nothing listens, and when the agent is detached first", async () => {
  // A port that was just free: the connection is refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await assertRejects(
    () => websocketOpened(new WebSocket(`ws://127.0.0.1:${port}/`), AbortSignal.abort(), options),
    Error,
    "the agent was detached while connecting",
  );
  await assertRejects(
    () =>
      websocketOpened(new WebSocket(`ws://127.0.0.1:${port}/`), new AbortController().signal, {
        ...options,
      }),
    Error,
  );
});
