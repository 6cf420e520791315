/**
 * A draft-14 MoQT session over any {@linkcode MoqTransport}, symmetric for clients and
 * servers: the setup exchange with version negotiation, the control stream, request-id flow
 * control (MAX_REQUEST_ID / REQUESTS_BLOCKED), GOAWAY, and dispatch to the publisher and
 * subscriber halves, which talk to an {@linkcode Origin}. The relay gives every session the
 * same origin; a client gives its session a private one.
 *
 * Hostile input (bad varints, lengths past the end, unknown message types, requests past
 * MAX_REQUEST_ID, a second control stream) closes this one session with the draft's error
 * code; nothing here throws past the session.
 *
 * @module
 */
import type {
  Authorize,
  ConnectionCredentials,
  Operation,
  Origin,
  StreamBudget,
  TrackConsumer,
  TrackProducer,
} from "../../model/mod.ts";
import type { MoqTransport } from "../../transport/transport.ts";
import type { Logger } from "../../../log/mod.ts";
import { MoqError, type MoqErrorKind } from "../../error.ts";
import { sessionErrorCode, sessionErrorFromCode } from "./error_codes.ts";
import {
  type ControlMessage,
  DRAFT14_VERSION,
  encodeControlMessage,
  readControlMessage,
} from "./messages.ts";
import { encodeAuthToken, SetupParameter } from "./parameters.ts";
import { setupCredentials } from "./setup_credentials.ts";
import { StreamReader } from "../coding/stream_reader.ts";
import { decodeDatagram } from "./datagram.ts";
import { readDataStreamHeader } from "./data_stream.ts";
import { type SessionState, transition } from "./session_state.ts";
import type { SessionCore } from "./session_core.ts";
import { Publisher } from "./publisher.ts";
import { Subscriber } from "./subscriber.ts";
import { controlStreamEndError } from "./control_end.ts";
import type { TrackForwarder } from "./track_forwarder.ts";
import type { RelayTally } from "../../../metrics/tally.ts";

/** The peer ended its control stream (see control_end.ts for what that means). */
const CONTROL_STREAM_ENDED = MoqError.protocolViolation("The peer closed the control stream");
/**
 * How long a raw QUIC connection may take to close after the peer's control stream ended
 * before that end counts as a protocol violation.
 */
const CONTROL_END_GRACE_MS = 1000;

/** Options for a {@linkcode Session}. */
export interface SessionOptions {
  /** `"server"` answers CLIENT_SETUP; `"client"` sends it. */
  readonly role: "client" | "server";
  /** Where the peer's publications go and its subscriptions are served from. */
  readonly origin: Origin;
  /** Where the session logs. */
  readonly log: Logger;
  /** Requests the peer may have outstanding before it must wait for MAX_REQUEST_ID [100]. */
  readonly requestWindow?: number;
  /** Group streams in flight per subscription before stale ones are dropped [4]. */
  readonly maxInFlightGroups?: number;
  /** How long the setup exchange may take, in ms [10000]. */
  readonly setupTimeoutMs?: number;
  /** How long a control message may take to arrive once it has started, in ms [10000]. */
  readonly messageTimeoutMs?: number;
  /** Policy hook for PUBLISH_NAMESPACE / PUBLISH / SUBSCRIBE [allow all]. */
  readonly authorize?: Authorize;
  /**
   * Server only: decides the peer's rights from the credentials CLIENT_SETUP carries (its
   * AUTHORIZATION_TOKEN, decoded by {@linkcode setupCredentials}), before SERVER_SETUP is
   * sent; the result replaces `authorize`.
   * Throwing a {@linkcode MoqError} closes the session with its code (an auth-token code
   * such as MALFORMED_AUTH_TOKEN); any other error closes it with UNAUTHORIZED.
   */
  readonly authorizeSetup?: (
    credentials: ConnectionCredentials,
  ) => Authorize | Promise<Authorize>;
  /**
   * A budget of open incoming data streams shared with other sessions (a relay's): a stream
   * it refuses is stopped at once (STOP_SENDING), its objects lost, the session kept.
   */
  readonly streamBudget?: StreamBudget;
  /** Client only: a token sent as CLIENT_SETUP's AUTHORIZATION_TOKEN (USE_VALUE, type 0). */
  readonly token?: string;
  /** Client only: the PATH setup parameter (raw QUIC). */
  readonly path?: string;
  /**
   * Process counters the objects and dropped groups this session forwards to its peer are
   * added to: a relay passes its tally; a client passes none, so that a track an
   * in-process client sends to a relay is counted once, by the relay [none].
   */
  readonly tally?: RelayTally;
}

const encoder = new TextEncoder();

/**
 * One MoQT session.
 *
 * @example
 * ```ts ignore
 * import { Session } from "./session.ts";
 * const session = new Session(transport, { role: "server", origin, log });
 * await session.ready;      // setup exchanged
 * await session.closed;     // ended, by either side
 * ```
 */
export class Session implements AsyncDisposable {
  /** The connection it runs on. */
  readonly transport: MoqTransport;
  /** The origin it publishes into and serves from. */
  readonly origin: Origin;
  /** Where it logs. */
  readonly log: Logger;
  /** Resolves when the setup exchange completed; rejects if it failed. */
  readonly ready: Promise<void>;
  /** Resolves with the error that ended the session (`code` 0 for a clean close). */
  readonly closed: Promise<MoqError>;
  readonly #role: "client" | "server";
  // Replaced by `authorizeSetup` once CLIENT_SETUP is read.
  #authorize: Authorize;
  readonly #authorizeSetup: SessionOptions["authorizeSetup"];
  readonly #token: string | undefined;
  readonly #requestWindow: number;
  readonly #maxInFlightGroups: number;
  readonly #streamBudget: StreamBudget | undefined;
  readonly #tally: RelayTally | undefined;
  readonly #setupTimeoutMs: number;
  readonly #messageTimeoutMs: number;
  readonly #path: string | undefined;
  readonly #publisher: Publisher;
  readonly #subscriber: Subscriber;
  readonly #resolveClosed: (error: MoqError) => void;
  #state: SessionState = "setup";
  #goawayUri: string | undefined;
  #control: WritableStreamDefaultWriter<Uint8Array> | undefined;
  // Our request ids (client even, server odd) and the peer's limit on them.
  #nextRequestId: number;
  #peerMaxRequestId = 0;
  #blockedWaiters: (() => void)[] = [];
  #sentBlockedAt = -1;
  // The peer's request ids and the limit we advertised.
  #peerNextRequestId: number;
  #maxRequestId: number;

  /** Starts the session on `transport`; the setup exchange begins at once. */
  constructor(transport: MoqTransport, options: SessionOptions) {
    this.transport = transport;
    this.origin = options.origin;
    this.log = options.log;
    this.#role = options.role;
    this.#authorize = options.authorize ?? (() => true);
    this.#authorizeSetup = options.authorizeSetup;
    this.#token = options.token;
    this.#requestWindow = options.requestWindow ?? 100;
    this.#maxInFlightGroups = options.maxInFlightGroups ?? 4;
    this.#streamBudget = options.streamBudget;
    this.#tally = options.tally;
    this.#setupTimeoutMs = options.setupTimeoutMs ?? 10_000;
    this.#messageTimeoutMs = options.messageTimeoutMs ?? 10_000;
    this.#path = options.path;
    this.#nextRequestId = this.#role === "client" ? 0 : 1;
    this.#peerNextRequestId = this.#role === "client" ? 1 : 0;
    // Ids step by two, so a window of N requests spans 2N id values.
    this.#maxRequestId = this.#peerNextRequestId + 2 * this.#requestWindow;
    const { promise, resolve } = Promise.withResolvers<MoqError>();
    this.closed = promise;
    this.#resolveClosed = resolve;
    const core = this.#core();
    this.#publisher = new Publisher(core);
    this.#subscriber = new Subscriber(core);
    this.ready = this.#run();
    this.ready.catch(() => {}); // setup failures are reported through closed and by callers awaiting ready
    transport.closed.then((info) =>
      this.#terminate(sessionErrorFromCode(info.code, info.reason || "Connection closed"), false)
    );
  }

  /** The session's state. */
  get state(): SessionState {
    return this.#state;
  }

  /**
   * The peer's GOAWAY New Session URI (`""`: none given) once it sent GOAWAY, else undefined:
   * where a client should reconnect (e.g. another node of a cluster).
   */
  get goawayUri(): string | undefined {
    return this.#goawayUri;
  }

  /** Subscriptions this session serves and receives, for stats. */
  get stats(): { serving: number; receiving: number } {
    return { serving: this.#publisher.servingCount, receiving: this.#subscriber.receivingCount };
  }

  /**
   * Client API: subscribe to a track of the peer directly (no origin lookup). `datagrams`
   * accepts the track's datagram lane if the publisher offers it [false].
   */
  async subscribe(track: TrackProducer, options: { datagrams?: boolean } = {}): Promise<void> {
    await this.ready;
    await this.#subscriber.subscribe(track, options);
  }

  /** Client API: push a local track to the peer with PUBLISH. */
  async publish(consumer: TrackConsumer): Promise<TrackForwarder> {
    await this.ready;
    return await this.#publisher.publish(consumer);
  }

  /** Client API: announce a namespace of the local origin with PUBLISH_NAMESPACE. */
  async publishNamespace(namespace: readonly string[]): Promise<void> {
    await this.ready;
    const requestId = await this.#takeRequestId();
    this.#send({
      type: "publish_namespace",
      requestId,
      namespace: [...namespace],
      parameters: new Map(),
    });
  }

  /** Client API: withdraw a namespace announced with {@linkcode publishNamespace}. */
  publishNamespaceDone(namespace: readonly string[]): void {
    this.#send({ type: "publish_namespace_done", namespace: [...namespace] });
  }

  /**
   * Server: tells the peer to move to `newSessionUri` (empty: reconnect here later) and
   * closes the session after `graceMs` if the peer has not left by then.
   */
  goaway(newSessionUri = "", graceMs = 5000): void {
    if (this.#state !== "established") return;
    this.#state = transition(this.#state, "draining");
    this.#send({ type: "goaway", newSessionUri });
    const timer = setTimeout(
      () => this.close("goaway_timeout", "GOAWAY grace period over"),
      graceMs,
    );
    this.closed.then(() => clearTimeout(timer));
  }

  /**
   * Closes the session for a protocol-neutral reason, sent as its draft-14 code. A second
   * close is a no-op.
   */
  close(kind: MoqErrorKind = "no_error", reason = ""): void {
    this.#terminate(new MoqError(kind, reason), true);
  }

  /** Closes with NO_ERROR and waits until closed. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.closed.then(() => {});
  }

  /** Sends a control message, queued behind earlier ones. */
  #send(message: ControlMessage): void {
    if (this.#state === "closed" || !this.#control) return;
    let frame: Uint8Array;
    try {
      frame = encodeControlMessage(message);
    } catch (error) {
      this.log.error("Cannot encode control message", { type: message.type, error });
      return;
    }
    this.#control.write(frame).catch(() => {}); // the control stream broke: the session closes through transport.closed
  }

  #core(): SessionCore {
    // Late-bound: `authorizeSetup` may replace the policy (and the identity it names) after
    // the halves are built.
    const authorize = Object.defineProperty(
      (operation: Operation, namespace: readonly string[]) => this.#authorize(operation, namespace),
      "identity",
      { get: () => this.#authorize.identity },
    ) as Authorize;
    return {
      transport: this.transport,
      origin: this.origin,
      log: this.log,
      authorize,
      maxInFlightGroups: this.#maxInFlightGroups,
      tally: this.#tally,
      send: (message) => this.#send(message),
      nextRequestId: () => this.#takeRequestId(),
      isOurs: (id) => id % 2 === this.#nextRequestId % 2 && id < this.#nextRequestId,
      fail: (kind, reason) => this.close(kind, reason),
    };
  }

  async #run(): Promise<void> {
    let reader: StreamReader | undefined;
    try {
      reader = await this.#withDeadline(this.#setup(), this.#setupTimeoutMs, "Setup timed out");
      this.#state = transition(this.#state, "established");
      this.log.debug("MoQT session established", {
        role: this.#role,
        transport: this.transport.kind,
      });
    } catch (error) {
      if (!(error instanceof MoqError)) {
        // A peer refusing the setup (e.g. UNAUTHORIZED) closes the connection, and our read
        // can fail before that close is seen: give it a moment, then report the peer's code.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([this.closed, new Promise((r) => timer = setTimeout(r, 100))]);
        clearTimeout(timer);
        if (this.#state === "closed") throw await this.closed;
      }
      const moqError = error instanceof MoqError ? error : new MoqError(
        "internal",
        `Setup failed: ${(error as Error)?.message}`,
      );
      this.#terminate(moqError, true);
      throw moqError;
    }
    this.#acceptBidi();
    this.#acceptUni();
    this.#acceptDatagrams();
    this.#readControl(reader);
  }

  /**
   * `work`, or CONTROL_MESSAGE_TIMEOUT after `ms`, whichever first. (A session that closes
   * meanwhile ends `work` itself: closing the transport errors its reads.)
   */
  async #withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new MoqError("control_message_timeout", what)),
            ms,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #setup(): Promise<StreamReader> {
    if (this.#role === "client") {
      const stream = await this.transport.openBidi();
      this.#control = stream.writable.getWriter();
      const parameters = new Map<number, number | Uint8Array>([
        [SetupParameter.MAX_REQUEST_ID, this.#maxRequestId],
      ]);
      if (this.#path !== undefined && this.transport.kind === "quic") {
        parameters.set(SetupParameter.PATH, encoder.encode(this.#path));
      }
      if (this.#token !== undefined) {
        parameters.set(
          SetupParameter.AUTHORIZATION_TOKEN,
          encodeAuthToken({
            aliasType: "use_value",
            tokenType: 0,
            value: encoder.encode(this.#token),
          }),
        );
      }
      this.#send({ type: "client_setup", versions: [DRAFT14_VERSION], parameters });
      const reader = new StreamReader(stream.readable);
      const reply = await readControlMessage(reader);
      if (reply?.type !== "server_setup") {
        throw MoqError.protocolViolation(
          `Expected SERVER_SETUP, got ${reply?.type ?? "end of stream"}`,
        );
      }
      if (reply.version !== DRAFT14_VERSION) {
        throw new MoqError(
          "version_negotiation_failed",
          `Server chose version 0x${reply.version.toString(16)}, which was not offered`,
        );
      }
      this.#peerMaxRequestId = Number(reply.parameters.get(SetupParameter.MAX_REQUEST_ID) ?? 0);
      return reader;
    }
    const incoming = this.transport.incomingBidi.getReader();
    const first = await incoming.read();
    incoming.releaseLock();
    if (first.done) throw MoqError.protocolViolation("Connection ended before a control stream");
    this.#control = first.value.writable.getWriter();
    const reader = new StreamReader(first.value.readable);
    const hello = await readControlMessage(reader);
    if (hello?.type !== "client_setup") {
      throw MoqError.protocolViolation(
        `Expected CLIENT_SETUP, got ${hello?.type ?? "end of stream"}`,
      );
    }
    if (!hello.versions.includes(DRAFT14_VERSION)) {
      throw new MoqError(
        "version_negotiation_failed",
        `No supported version offered: ${
          hello.versions.map((v) => `0x${v.toString(16)}`).join(", ")
        }`,
      );
    }
    this.#peerMaxRequestId = Number(hello.parameters.get(SetupParameter.MAX_REQUEST_ID) ?? 0);
    if (this.#authorizeSetup) {
      try {
        this.#authorize = await this.#authorizeSetup(setupCredentials(hello.parameters));
      } catch (error) {
        if (error instanceof MoqError) throw error;
        throw new MoqError(
          "unauthorized",
          (error as Error)?.message ?? "Unauthorized",
        );
      }
    }
    this.#send({
      type: "server_setup",
      version: DRAFT14_VERSION,
      parameters: new Map([[SetupParameter.MAX_REQUEST_ID, this.#maxRequestId]]),
    });
    return reader;
  }

  async #readControl(reader: StreamReader): Promise<void> {
    try {
      for (;;) {
        // An idle control stream is fine; a message that starts and then stalls is not (it
        // would pin the session forever): once its first byte is here, the rest must follow
        // within the message timeout.
        if (await reader.done()) {
          throw CONTROL_STREAM_ENDED;
        }
        const message = await this.#withDeadline(
          readControlMessage(reader),
          this.#messageTimeoutMs,
          "Control message did not complete in time",
        );
        if (this.#state === "closed") return;
        if (!message) {
          throw CONTROL_STREAM_ENDED;
        }
        this.#dispatch(message);
      }
    } catch (error) {
      if (this.#state === "closed") return;
      // A peer going away (a page closed or left, a client closing its session) ends its
      // control stream; see control_end.ts for when that is a clean close. A raw QUIC
      // connection's own close, often reported after the stream's end, ends the session
      // with the peer's code.
      if (error === CONTROL_STREAM_ENDED || !(error instanceof MoqError)) {
        this.log.debug("The peer ended its control stream", { transport: this.transport.kind });
        const end = controlStreamEndError({
          transport: this.transport.kind,
          connectionClosed: this.transport.kind === "quic" &&
            await this.#transportClosesWithin(CONTROL_END_GRACE_MS),
        });
        if (end) this.close(end.kind, end.message); // a no-op once the connection closed it
        return;
      }
      this.close(error.kind, error.message);
    }
  }

  /** True when the transport closes within `ms`. */
  async #transportClosesWithin(ms: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        this.transport.closed.then(() => true),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms)),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Checks a new request id from the peer (draft-14 §9.1 request ids). */
  #acceptRequestId(id: number): void {
    if (id >= this.#maxRequestId) {
      throw new MoqError(
        "too_many_requests",
        `Request id ${id} is not below MAX_REQUEST_ID ${this.#maxRequestId}`,
      );
    }
    if (id !== this.#peerNextRequestId) {
      throw new MoqError(
        "invalid_request_id",
        `Expected request id ${this.#peerNextRequestId}, got ${id}`,
      );
    }
    this.#peerNextRequestId += 2;
    // Keep at least half the window open: raise the limit as requests arrive.
    if (this.#maxRequestId - this.#peerNextRequestId < this.#requestWindow) {
      this.#maxRequestId = this.#peerNextRequestId + 2 * this.#requestWindow;
      this.#send({ type: "max_request_id", requestId: this.#maxRequestId });
    }
  }

  #unknownReply(type: string, requestId: number): void {
    // A reply to a request we made and already finished is a benign race; one to a request
    // we never made is a protocol violation.
    if (this.#core().isOurs(requestId)) return;
    throw MoqError.protocolViolation(`${type.toUpperCase()} names unknown request ${requestId}`);
  }

  #dispatch(msg: ControlMessage): void {
    const pub = this.#publisher;
    const sub = this.#subscriber;
    switch (msg.type) {
      case "client_setup":
      case "server_setup":
        throw MoqError.protocolViolation(`Unexpected ${msg.type.toUpperCase()} after setup`);
      case "goaway":
        if (this.#role === "server") throw MoqError.protocolViolation("A client sent GOAWAY");
        if (this.#state === "established") this.#state = transition(this.#state, "draining");
        this.#goawayUri = msg.newSessionUri;
        this.log.info("Peer sent GOAWAY", { newSessionUri: msg.newSessionUri });
        return;
      case "max_request_id":
        if (msg.requestId < this.#peerMaxRequestId) {
          throw MoqError.protocolViolation("MAX_REQUEST_ID decreased");
        }
        this.#peerMaxRequestId = msg.requestId;
        for (const wake of this.#blockedWaiters.splice(0)) wake();
        return;
      case "requests_blocked":
        this.log.debug("Peer is blocked on request ids", {
          maximumRequestId: msg.maximumRequestId,
        });
        return;
      case "subscribe":
        this.#acceptRequestId(msg.requestId);
        pub.onSubscribe(msg).catch((error) => this.log.error("SUBSCRIBE failed", { error }));
        return;
      case "subscribe_update":
        this.#acceptRequestId(msg.requestId);
        pub.onSubscribeUpdate(msg);
        return;
      case "unsubscribe":
        pub.onUnsubscribe(msg);
        return;
      case "track_status":
        this.#acceptRequestId(msg.requestId);
        pub.onTrackStatus(msg);
        return;
      case "fetch":
        this.#acceptRequestId(msg.requestId);
        pub.onFetch(msg);
        return;
      case "fetch_cancel":
        return; // every FETCH was refused; a cancel may cross the error
      case "subscribe_namespace":
        this.#acceptRequestId(msg.requestId);
        pub.onSubscribeNamespace(msg, (ns) => sub.publishes(ns));
        return;
      case "unsubscribe_namespace":
        pub.onUnsubscribeNamespace(msg);
        return;
      case "publish_namespace_ok":
      case "publish_namespace_error":
        if (!pub.onAnnounceReply(msg)) this.#unknownReply(msg.type, msg.requestId);
        return;
      case "publish_namespace_cancel":
        pub.onPublishNamespaceCancel(msg);
        return;
      case "publish_ok":
      case "publish_error":
        if (!pub.onPublishReply(msg)) this.#unknownReply(msg.type, msg.requestId);
        return;
      case "subscribe_ok":
      case "subscribe_error":
        if (!sub.onSubscribeReply(msg)) this.#unknownReply(msg.type, msg.requestId);
        return;
      case "publish_done":
        if (!sub.onPublishDone(msg)) this.#unknownReply(msg.type, msg.requestId);
        return;
      case "publish_namespace":
        this.#acceptRequestId(msg.requestId);
        sub.onPublishNamespace(msg);
        return;
      case "publish_namespace_done":
        sub.onPublishNamespaceDone(msg);
        return;
      case "publish":
        this.#acceptRequestId(msg.requestId);
        sub.onPublish(msg);
        return;
      case "subscribe_namespace_ok":
      case "subscribe_namespace_error":
      case "fetch_ok":
      case "fetch_error":
      case "track_status_ok":
      case "track_status_error":
        // This session never sends SUBSCRIBE_NAMESPACE, FETCH or TRACK_STATUS.
        this.#unknownReply(msg.type, msg.requestId);
        return;
    }
  }

  async #takeRequestId(): Promise<number> {
    while (this.#nextRequestId >= this.#peerMaxRequestId) {
      if (this.#state === "closed") throw new MoqError("no_error", "Session closed");
      if (this.#sentBlockedAt !== this.#peerMaxRequestId) {
        this.#sentBlockedAt = this.#peerMaxRequestId;
        this.#send({ type: "requests_blocked", maximumRequestId: this.#peerMaxRequestId });
      }
      await new Promise<void>((resolve) => this.#blockedWaiters.push(resolve));
    }
    const id = this.#nextRequestId;
    this.#nextRequestId += 2;
    return id;
  }

  async #acceptBidi(): Promise<void> {
    // Draft-14 has exactly one bidirectional stream: the control stream.
    try {
      for await (const _stream of this.transport.incomingBidi) {
        this.close("protocol_violation", "A second bidirectional stream was opened");
        return;
      }
    } catch {
      // Connection ended.
    }
  }

  async #acceptUni(): Promise<void> {
    try {
      for await (const stream of this.transport.incomingUni) {
        this.#readDataStream(stream);
      }
    } catch {
      // Connection ended.
    }
  }

  async #readDataStream(stream: ReadableStream<Uint8Array>): Promise<void> {
    const budget = this.#streamBudget;
    if (budget && !budget.take(this)) {
      if (budget.refused === 1 || budget.refused % 1000 === 0) {
        this.log.warn("Data stream refused: the relay's stream budget is spent", {
          limit: budget.limit,
          held: budget.heldBy(this),
          refused: budget.refused,
        });
      }
      await stream.cancel().catch(() => {}); // the peer may have reset it already
      return;
    }
    const reader = new StreamReader(stream);
    try {
      const header = await readDataStreamHeader(reader);
      if (!header) return;
      if (header.type === "fetch") {
        // We never FETCH, so a fetch stream answers nothing of ours.
        throw MoqError.protocolViolation(
          `Fetch stream for request ${header.requestId} we never made`,
        );
      }
      await this.#subscriber.onSubgroup(header.header, reader);
    } catch (error) {
      if (error instanceof MoqError && this.#state !== "closed") {
        this.close(error.kind, error.message);
      }
      // Otherwise the stream was reset or the connection went away: the group is lost.
      await reader.cancel().catch(() => {}); // the stream is already reset or the connection gone
    } finally {
      budget?.release(this);
    }
  }

  async #acceptDatagrams(): Promise<void> {
    try {
      for await (const bytes of this.transport.incomingDatagrams) {
        try {
          this.#subscriber.onDatagram(decodeDatagram(bytes));
        } catch (error) {
          if (error instanceof MoqError) return this.close(error.kind, error.message);
        }
      }
    } catch {
      // Connection ended.
    }
  }

  #terminate(error: MoqError, local: boolean): void {
    if (this.#state === "closed") return;
    this.#state = transition(this.#state, "closed");
    this.#publisher.close();
    this.#subscriber.close();
    for (const wake of this.#blockedWaiters.splice(0)) wake();
    const code = sessionErrorCode(error);
    if (local) this.transport.close({ code, reason: error.message.slice(0, 1000) });
    // One line per session end, clean ones too: an operator sees a page closing (no_error)
    // apart from a peer breaking the protocol.
    this.log.info("MoQT session closed", {
      code,
      kind: error.kind,
      reason: error.message,
      local,
    });
    this.#resolveClosed(error);
  }
}
