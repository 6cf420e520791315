/**
 * Transports that carry MoQT: raw QUIC (ALPN `moq-00`) and WebTransport over HTTP/3, behind
 * one small {@linkcode MoqTransport} interface, plus the server endpoint and a QUIC client.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { connectMoqQuic, listenMoq } from "@clutchcall/voice/relay";
 * import { loadOrCreateDevCertificate } from "@clutchcall/voice/server";
 * const dataDir = await Deno.makeTempDir();
 * const { certPem, keyPem } = await loadOrCreateDevCertificate({ dataDir });
 * await using endpoint = listenMoq({ hostname: "127.0.0.1", port: 0, cert: certPem, key: keyPem });
 * const accepted = endpoint[Symbol.asyncIterator]().next();
 * const client = await connectMoqQuic({
 *   hostname: "127.0.0.1",
 *   port: endpoint.addr.port,
 *   caCerts: [certPem],
 * });
 * const { value: server } = await accepted;
 * assertEquals([client.kind, server?.kind], ["quic", "quic"]); // raw QUIC, ALPN moq-00
 * client.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */
export * from "./endpoint.ts";
export * from "./quic.ts";
export * from "./transport.ts";
export * from "./webtransport.ts";
