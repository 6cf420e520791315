import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { HttpFront, PEER_HEADER } from "../../src/server/http_front.ts";
import { spawnServer } from "../_lib/server_process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads everything the server sends until it closes the connection. */
async function readUntilClosed(conn: Deno.Conn): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      // A reset after the server's close is a close too.
      if (error instanceof Deno.errors.ConnectionReset) return text;
      throw error;
    }
    if (n === null) return text;
    text += decoder.decode(buffer.subarray(0, n));
  }
}

/** Reads until `text` holds `count` complete responses (heads + Content-Length bodies). */
async function readResponses(conn: Deno.Conn, count: number): Promise<string[]> {
  const buffer = new Uint8Array(4096);
  let text = "";
  const responses: string[] = [];
  while (responses.length < count) {
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length >= end + 4 + length) {
        responses.push(text.slice(0, end + 4 + length));
        text = text.slice(end + 4 + length);
        continue;
      }
    }
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`Closed after ${responses.length} responses: ${text}`);
    text += decoder.decode(buffer.subarray(0, n));
  }
  return responses;
}

/** A real Deno.serve on a Unix socket echoing what it saw, behind a front. */
async function echoBehindFront(options: { headerTimeoutMs?: number; idleTimeoutMs?: number }) {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-front-" });
  const backendPath = `${dir}/http.sock`;
  const listening = Promise.withResolvers<void>();
  const server = Deno.serve(
    { path: backendPath, onListen: () => listening.resolve() },
    async (request) => {
      const body = await request.text();
      return Response.json({
        method: request.method,
        path: new URL(request.url).pathname,
        body,
        peer: request.headers.get(PEER_HEADER),
        peers: [...request.headers].filter(([k]) => k === PEER_HEADER).length,
      });
    },
  );
  await listening.promise;
  const front = HttpFront.listen({ hostname: "127.0.0.1", port: 0, backendPath, ...options });
  return {
    front,
    connect: () => Deno.connect({ hostname: "127.0.0.1", port: front.addr.port }),
    async [Symbol.asyncDispose]() {
      await front.close();
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("the HTTP front keeps keep-alive, bodies and pipelining intact and names the peer", async () => {
  await using echo = await echoBehindFront({});
  using conn = await echo.connect();
  const body = JSON.stringify({ hello: "world" });
  // Two requests in one write (pipelined), a body split across writes, a spoofed peer header.
  await conn.write(encoder.encode(
    `GET /a HTTP/1.1\r\nHost: x\r\n${PEER_HEADER}: 6.6.6.6:1\r\n\r\n` +
      `POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
  ));
  const [first] = await readResponses(conn, 1);
  await conn.write(encoder.encode(`${body.slice(5)}\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n`));
  const [second, third] = await readResponses(conn, 2);
  const json = (response: string) => JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4));
  const local = conn.localAddr as Deno.NetAddr;
  assertEquals(json(first), {
    method: "GET",
    path: "/a",
    body: "",
    peer: `127.0.0.1:${local.port}`,
    peers: 1,
  });
  assertEquals(json(second).body, body);
  assertEquals(json(second).method, "POST");
  assertEquals(json(third).path, "/c");
});

Deno.test("the HTTP front ends a chunked request's connection after its response", async () => {
  await using echo = await echoBehindFront({});
  using conn = await echo.connect();
  await conn.write(encoder.encode(
    "POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
  ));
  const text = await readUntilClosed(conn);
  assertMatch(text, /^HTTP\/1\.1 200/);
  assertStringIncludes(text, '"body":"hello"');
});

Deno.test("the HTTP front refuses oversized heads (431) and conflicting Content-Length (400)", async () => {
  await using echo = await echoBehindFront({});
  {
    using conn = await echo.connect();
    await conn.write(encoder.encode(`GET / HTTP/1.1\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`));
    assertMatch(await readUntilClosed(conn), /^HTTP\/1\.1 431 /);
  }
  {
    using conn = await echo.connect();
    await conn.write(
      encoder.encode("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc"),
    );
    assertMatch(await readUntilClosed(conn), /^HTTP\/1\.1 400 /);
  }
});

Deno.test("the HTTP front closes a keep-alive connection left idle, without an error status", async () => {
  await using echo = await echoBehindFront({ idleTimeoutMs: 300 });
  using conn = await echo.connect();
  await conn.write(encoder.encode("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"));
  await readResponses(conn, 1);
  // Nothing more is sent: the front closes the connection (the signal this test waits on).
  assertEquals(await readUntilClosed(conn), "");
});

Deno.test("slowloris: 500 sockets dribbling headers into the real server are each cut with 408 while a normal request is served", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "clutchcall-slowloris-" });
  const configPath = `${dataDir}/config.json`;
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ httpPort: 0, moqPort: 0, http: { headerTimeoutMs: 2000 } }),
  );
  try {
    await using server = await spawnServer({ dataDir, configPath });
    const { hostname, port } = new URL(server.listening.http);
    const sockets = await Promise.all(
      Array.from({ length: 500 }, () => Deno.connect({ hostname, port: Number(port) })),
    );
    const cut: Promise<string>[] = [];
    const dribbling: Promise<void>[] = [];
    for (const [i, socket] of sockets.entries()) {
      let open = true;
      cut.push(readUntilClosed(socket).finally(() => open = false));
      // Socket 0 sends nothing at all; the others start a head and add a byte at a time.
      if (i === 0) continue;
      dribbling.push((async () => {
        await socket.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: "));
        while (open) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          if (!open) break;
          try {
            await socket.write(encoder.encode("a"));
          } catch (error) {
            // The server closed the socket between our check and the write: that is the point.
            if (
              !(error instanceof Deno.errors.BrokenPipe ||
                error instanceof Deno.errors.ConnectionReset)
            ) {
              throw error;
            }
            break;
          }
        }
      })());
    }
    // While 500 sockets hold connections, a well-behaved client is served.
    const health = await fetch(`${server.listening.http}/healthz`);
    assertEquals(health.status, 200);
    await health.body?.cancel();

    // A watchdog, not a threshold: without a header timeout these sockets would stay forever.
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => {
      watchdog = setTimeout(
        () => reject(new Error("Dribbling sockets were still open after 60 s")),
        60_000,
      );
    });
    const answers = await Promise.race([Promise.all(cut), stuck]);
    clearTimeout(watchdog);
    await Promise.all(dribbling);
    for (const socket of sockets) socket.close();
    assertEquals(answers.filter((a) => /^HTTP\/1\.1 408 /.test(a)).length, 500);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
