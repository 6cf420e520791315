/**
 * Two connected in-memory {@linkcode MoqTransport}s, for unit tests of the sessions' state
 * machines below the QUIC boundary (the scenario suites use real QUIC). Streams are
 * TransformStreams: what one side writes the other reads, FIN and all; `close()` on either
 * side resolves both `closed` promises with the same code.
 *
 * @module
 */
import type { BidiStream, CloseInfo, MoqTransport } from "../../src/relay/transport/transport.ts";

class Inbox<T> {
  readonly stream: ReadableStream<T>;
  #controller!: ReadableStreamDefaultController<T>;
  #closed = false;
  constructor() {
    this.stream = new ReadableStream<T>({ start: (c) => void (this.#controller = c) });
  }
  push(item: T): void {
    if (!this.#closed) this.#controller.enqueue(item);
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#controller.close();
  }
}

class MemoryTransport implements MoqTransport {
  readonly kind = "quic" as const;
  readonly query: URLSearchParams = new URLSearchParams();
  readonly path: string | undefined = undefined;
  readonly maxDatagramSize = 1200;
  readonly bidi = new Inbox<BidiStream>();
  readonly uni = new Inbox<ReadableStream<Uint8Array>>();
  readonly datagrams = new Inbox<Uint8Array>();
  peer!: MemoryTransport;
  readonly #closed = Promise.withResolvers<CloseInfo>();
  #done = false;
  /** Unidirectional streams this side opened. */
  opened = 0;

  constructor(readonly remote: string) {}

  get closed(): Promise<CloseInfo> {
    return this.#closed.promise;
  }
  get incomingBidi(): ReadableStream<BidiStream> {
    return this.bidi.stream;
  }
  get incomingUni(): ReadableStream<ReadableStream<Uint8Array>> {
    return this.uni.stream;
  }
  get incomingDatagrams(): ReadableStream<Uint8Array> {
    return this.datagrams.stream;
  }

  openBidi(): Promise<BidiStream> {
    if (this.#done) return Promise.reject(new Error("Connection closed"));
    const there = new TransformStream<Uint8Array, Uint8Array>();
    const back = new TransformStream<Uint8Array, Uint8Array>();
    this.peer.bidi.push({ readable: there.readable, writable: back.writable });
    return Promise.resolve({ readable: back.readable, writable: there.writable });
  }

  openUni(): Promise<WritableStream<Uint8Array>> {
    if (this.#done) return Promise.reject(new Error("Connection closed"));
    const pipe = new TransformStream<Uint8Array, Uint8Array>();
    this.opened++;
    this.peer.uni.push(pipe.readable);
    return Promise.resolve(pipe.writable);
  }

  sendDatagram(payload: Uint8Array): void {
    if (!this.#done) this.peer.datagrams.push(payload.slice());
  }

  close(info: CloseInfo = { code: 0, reason: "" }): void {
    this.end(info);
    this.peer.end(info);
  }

  end(info: CloseInfo): void {
    if (this.#done) return;
    this.#done = true;
    this.bidi.close();
    this.uni.close();
    this.datagrams.close();
    this.#closed.resolve(info);
  }
}

/**
 * A connected pair: `client` and `server` ends of one in-memory connection.
 *
 * @example
 * ```ts
 * import { memoryTransports } from "./memory_transport.ts";
 * const { client, server } = memoryTransports();
 * client.close({ code: 0, reason: "done" });
 * console.log(await server.closed); // { code: 0, reason: "done" }
 * ```
 */
export function memoryTransports(): {
  client: MoqTransport & { readonly opened: number };
  server: MoqTransport & { readonly opened: number };
} {
  const client = new MemoryTransport("memory:client");
  const server = new MemoryTransport("memory:server");
  client.peer = server;
  server.peer = client;
  return { client, server };
}
