/**
 * Transports that carry MoQT: raw QUIC (ALPN `moq-00`) and WebTransport over HTTP/3, behind
 * one small {@linkcode MoqTransport} interface, plus the server endpoint and a QUIC client.
 *
 * @example
 * ```ts ignore
 * import { listenMoq } from "./mod.ts";
 * for await (const transport of listenMoq({ hostname: "127.0.0.1", port: 4443, cert, key })) {
 *   console.log("MoQT connection over", transport.kind);
 * }
 * ```
 *
 * @module
 */
export * from "./endpoint.ts";
export * from "./quic.ts";
export * from "./transport.ts";
export * from "./webtransport.ts";
