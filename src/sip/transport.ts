/**
 * The gateway's SIP transports: small interfaces over the Deno sockets so the endpoint is
 * the same for UDP and TCP (and testable with an in-memory socket).
 *
 * @module
 */
import type { SipTransportName } from "./config.ts";

/** Where a message came from or goes to. */
export interface SipPeer {
  readonly transport: SipTransportName;
  readonly host: string;
  readonly port: number;
}

/** Receives one whole message (a datagram, or one framed out of a stream). */
export type SipReceiver = (bytes: Uint8Array, from: SipPeer) => void;

/**
 * A listening SIP socket.
 *
 * An implementation MUST deliver each whole message once to the receiver, MUST drop (never
 * deliver) messages larger than its `maxBytes`, MUST NOT throw from `send` for a peer that
 * went away (it reports failure by returning false), and MUST make a second `close` a no-op.
 */
export interface SipSocket extends AsyncDisposable {
  readonly transport: SipTransportName;
  /** The bound port. */
  readonly port: number;
  /** Sends a message; resolves false when it could not be sent. */
  send(text: string, to: SipPeer): Promise<boolean>;
  close(): Promise<void>;
}
