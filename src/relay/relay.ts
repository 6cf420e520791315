/**
 * The relay: one shared {@linkcode Origin} and a draft-14 session for every MoQT connection.
 * Publishers and subscribers meet in the origin; one upstream subscription per track feeds
 * every subscriber; in-process consumers route tracks by capability. It never looks at the
 * media it carries.
 *
 * @module
 */
import {
  type Authorize,
  type ConnectionCredentials,
  Origin,
  type OriginOptions,
  StreamBudget,
} from "./model/mod.ts";
import { Session } from "./wire/draft14/session.ts";
import type { MoqTransport } from "./transport/transport.ts";
import type { MoqEndpoint } from "./transport/endpoint.ts";
import type { Logger } from "../log/mod.ts";
import { SessionErrorCode } from "./wire/draft14/error_codes.ts";
import { relayTally } from "../metrics/tally.ts";

/** Options for a {@linkcode Relay}. */
export interface RelayOptions extends OriginOptions {
  /** Where sessions log. */
  readonly log: Logger;
  /** Group streams in flight per subscriber before stale groups are dropped [4]. */
  readonly maxInFlightGroups?: number;
  /** Requests a peer may have outstanding [100]. */
  readonly requestWindow?: number;
  /**
   * Open incoming data streams the whole relay aims to stay under, shared fairly by its
   * sessions (see {@linkcode StreamBudget}) [16384, ~700 MB of transport state at ~44 KB a
   * stream]. Each connection is also bounded by its QUIC stream limit (`listenMoq`).
   */
  readonly maxDataStreams?: number;
  /** How long a new connection may take to send CLIENT_SETUP, in ms [10000]. */
  readonly setupTimeoutMs?: number;
  /** How long a started control message may take to complete, in ms [10000]. */
  readonly messageTimeoutMs?: number;
  /**
   * Decides, per connection, what its peer may publish and subscribe [allow all]. Called once
   * the setup is read, with the credentials it carried (raw QUIC peers carry their token in
   * draft-14's AUTHORIZATION_TOKEN; WebTransport peers may use `transport.query`). Throwing
   * closes the session: with a `MoqError`'s code, else UNAUTHORIZED.
   */
  readonly authorizeConnection?: (
    transport: MoqTransport,
    credentials: ConnectionCredentials,
  ) => Authorize | Promise<Authorize>;
}

/**
 * A MoQT relay.
 *
 * @example
 * ```ts ignore
 * import { Relay } from "./relay.ts";
 * import { listenMoq } from "./transport/mod.ts";
 * await using relay = new Relay({ log });
 * relay.serve(listenMoq({ hostname: "127.0.0.1", port: 4443, cert, key }));
 * ```
 */
export class Relay implements AsyncDisposable {
  /** The table every session publishes into and subscribes from. */
  readonly origin: Origin;
  readonly #options: RelayOptions;
  readonly #sessions = new Set<Session>();
  readonly #streamBudget: StreamBudget;
  readonly #endpoints = new Set<MoqEndpoint>();
  #closed = false;

  /** Creates a relay with an empty origin. */
  constructor(options: RelayOptions) {
    this.#options = options;
    this.origin = new Origin(options);
    this.#streamBudget = new StreamBudget(options.maxDataStreams ?? 16384);
  }

  /** Incoming data streams: open now, and refused because the budget was spent. */
  get dataStreams(): { open: number; refused: number; limit: number } {
    const budget = this.#streamBudget;
    return { open: budget.open, refused: budget.refused, limit: budget.limit };
  }

  /** Live sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Tracks the live sessions serve to their peers and receive from them, summed (a track a
   * newer publisher took over is no longer received from the old session).
   */
  get trackStats(): { serving: number; receiving: number } {
    let serving = 0, receiving = 0;
    for (const session of this.#sessions) {
      serving += session.stats.serving;
      receiving += session.stats.receiving;
    }
    return { serving, receiving };
  }

  /** Accepts every connection of `endpoint` until it closes. */
  async serve(endpoint: MoqEndpoint): Promise<void> {
    this.#endpoints.add(endpoint);
    try {
      for await (const transport of endpoint) {
        this.accept(transport).catch((error) =>
          this.#options.log.warn("MoQT connection refused", { remote: transport.remote, error })
        );
      }
    } finally {
      this.#endpoints.delete(endpoint);
    }
  }

  /** Runs a server session on `transport`. Resolves once the session is set up. */
  async accept(transport: MoqTransport): Promise<Session> {
    if (this.#closed) {
      transport.close({ code: SessionErrorCode.NO_ERROR, reason: "Relay is shutting down" });
      throw new Error("Relay is closed");
    }
    const log = this.#options.log.child({ remote: transport.remote, transport: transport.kind });
    const authorizeConnection = this.#options.authorizeConnection;
    const session = new Session(transport, {
      role: "server",
      origin: this.origin,
      log,
      // Auth waits for CLIENT_SETUP, where raw QUIC peers put their token; the session
      // closes with UNAUTHORIZED (or the auth-token code thrown) when this throws.
      authorizeSetup: authorizeConnection &&
        ((credentials) => authorizeConnection(transport, credentials)),
      maxInFlightGroups: this.#options.maxInFlightGroups,
      streamBudget: this.#streamBudget,
      // What this relay forwards is what clutchcall_relay_objects_total counts.
      tally: relayTally,
      requestWindow: this.#options.requestWindow,
      setupTimeoutMs: this.#options.setupTimeoutMs,
      messageTimeoutMs: this.#options.messageTimeoutMs,
    });
    this.#sessions.add(session);
    session.closed.then(() => this.#sessions.delete(session));
    await session.ready;
    return session;
  }

  /**
   * Sends GOAWAY (with `newSessionUri`, where clients should go: another node of a cluster,
   * or none) to every session and closes them after `graceMs` (or sooner when they leave),
   * then closes the endpoints. A second close is a no-op.
   */
  async close(graceMs = 1000, newSessionUri = ""): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const endpoint of this.#endpoints) endpoint.stopAccepting();
    const sessions = [...this.#sessions];
    for (const session of sessions) session.goaway(newSessionUri, graceMs);
    await Promise.race([
      Promise.all(sessions.map((s) => s.closed)),
      new Promise((resolve) => setTimeout(resolve, graceMs)),
    ]);
    for (const session of sessions) session.close("no_error", "Relay shut down");
    for (const endpoint of this.#endpoints) endpoint.close();
  }

  /** Same as {@linkcode close} with the default grace period. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
