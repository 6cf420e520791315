/**
 * The subscriber half of a draft-14 session: subscribes upstream on behalf of the origin
 * (it is the {@linkcode TrackSource} of every namespace the peer publishes), accepts the
 * peer's PUBLISH_NAMESPACE and PUBLISH, and turns incoming subgroup streams and datagrams
 * into groups of the origin's tracks.
 *
 * Upstream groups are closed when their stream ends, or, for a peer that has not shown it
 * sends FIN, shortly after a newer group of the same track starts: the peer's
 * {@linkcode GroupEndPolicy} decides.
 *
 * @module
 */
import {
  type GroupProducer,
  type Registration,
  TrackError,
  type TrackErrorReason,
  type TrackProducer,
  type TrackSource,
} from "../../model/mod.ts";
import {
  PublishDoneCode,
  PublishErrorCode,
  PublishNamespaceErrorCode,
  SubscribeErrorCode,
} from "./error_codes.ts";
import type {
  Publish,
  PublishDone,
  PublishNamespace,
  PublishNamespaceDone,
  SubscribeError,
  SubscribeOk,
} from "./messages.ts";
import { GroupOrder } from "./messages.ts";
import type { ObjectDatagram } from "./datagram.ts";
import { fail, ObjectStatus } from "./data_object.ts";
import { splitTimestamp } from "./extensions.ts";
import { decodeSubgroupObject, SHORT, type SubgroupHeader } from "./subgroup_stream.ts";
import type { StreamReader } from "../coding/stream_reader.ts";
import { readCapability } from "./capability_parameter.ts";
import { readDatagramLane, withDatagramLane } from "./datagram_lane.ts";
import type { SessionCore } from "./session_core.ts";
import { GroupEndPolicy, type GroupEndTracker } from "./group_end_policy.ts";

/** How long a data stream may wait for the SUBSCRIBE_OK / PUBLISH that names its alias. */
const ALIAS_WAIT_MS = 1000;
/**
 * How many PUBLISH request ids we ended ourselves (with UNSUBSCRIBE) are remembered, so a
 * PUBLISH_DONE that crossed our UNSUBSCRIBE is recognised as late, not unknown.
 */
const REMEMBERED_UNSUBSCRIBES = 1024;
/** How long we wait for SUBSCRIBE_OK before giving up on the upstream. */
const SUBSCRIBE_TIMEOUT_MS = 10_000;
/**
 * How long an unfinished group stream may still deliver once a newer group of its track has
 * started (see {@linkcode GroupEndPolicy}). Ending group N at once when N+1's header is read
 * dropped whole groups of healthy publishers (tests/relay/hostile_input_test.ts, burst case).
 */
const SUPERSEDED_GRACE_MS = 50;

interface OpenGroup {
  readonly group: GroupProducer;
  readonly reader?: StreamReader;
}

interface Incoming {
  readonly requestId: number;
  readonly track: TrackProducer;
  /** Groups whose stream is still open, oldest first. */
  readonly open: Map<number, OpenGroup>;
  /** Ends superseded groups of this track while the peer's policy says so. */
  readonly groupEnds: GroupEndTracker;
  /** The peer ended it (PUBLISH_DONE): no UNSUBSCRIBE is owed. */
  endedByPeer: boolean;
  /** We accepted the datagram lane for it; datagrams for any other track are dropped. */
  readonly datagrams: boolean;
}

interface Pending {
  readonly track: TrackProducer;
  /** The SUBSCRIBE accepted the datagram lane. */
  readonly datagrams: boolean;
  readonly settled: PromiseWithResolvers<void>;
}

function reasonOf(code: number): TrackErrorReason {
  switch (code) {
    case SubscribeErrorCode.UNAUTHORIZED:
      return "unauthorized";
    case SubscribeErrorCode.TIMEOUT:
      return "timeout";
    case SubscribeErrorCode.TRACK_DOES_NOT_EXIST:
      return "not_found";
    default:
      return "internal";
  }
}

/** @internal The subscriber half of a session. */
export class Subscriber implements TrackSource {
  readonly #core: SessionCore;
  readonly #pending = new Map<number, Pending>();
  readonly #byRequest = new Map<number, Incoming>();
  readonly #byAlias = new Map<number, Incoming>();
  readonly #namespaces = new Map<string, Registration>();
  readonly #aliasWaiters = new Set<() => void>();
  /** Peer PUBLISH requests we ended with UNSUBSCRIBE, oldest first (bounded). */
  readonly #unsubscribed = new Set<number>();
  #closed = false;
  /** How this peer's groups end: by FIN, or superseded by newer groups until it shows FIN. */
  readonly groupEnds = new GroupEndPolicy({ graceMs: SUPERSEDED_GRACE_MS });

  constructor(core: SessionCore) {
    this.#core = core;
  }

  /** True when the peer published `namespace` through this session. */
  publishes(namespace: readonly string[]): boolean {
    return this.#namespaces.has(JSON.stringify(namespace));
  }

  /** Datagrams dropped because their track did not negotiate the datagram lane. */
  unnegotiatedDatagrams = 0;

  /** Upstream tracks currently received, for stats. */
  get receivingCount(): number {
    return this.#byRequest.size;
  }

  /**
   * TrackSource: SUBSCRIBE upstream and feed `track`. A relay accepts the datagram lane
   * upstream (it forwards on streams to whoever did not accept it downstream).
   */
  serve(track: TrackProducer): Promise<void> {
    return this.subscribe(track, { datagrams: true });
  }

  /**
   * SUBSCRIBE upstream and feed `track`; `datagrams` accepts the track's datagram lane if the
   * publisher offers it (SUBSCRIBE_OK then says so, and `track.info.datagrams` is set).
   */
  async subscribe(track: TrackProducer, { datagrams = false } = {}): Promise<void> {
    const core = this.#core;
    if (this.#closed) throw new TrackError("going_away", "Cannot subscribe: the session is closed");
    const requestId = await core.nextRequestId();
    const pending: Pending = { track, datagrams, settled: Promise.withResolvers() };
    this.#pending.set(requestId, pending);
    core.send({
      type: "subscribe",
      requestId,
      namespace: [...track.info.namespace],
      name: track.info.name,
      subscriberPriority: 128,
      groupOrder: GroupOrder.ASCENDING,
      forward: true,
      filter: { type: "largest_object" },
      parameters: withDatagramLane(new Map(), datagrams),
    });
    const timer = setTimeout(() => {
      if (this.#pending.delete(requestId)) {
        core.send({ type: "unsubscribe", requestId });
        pending.settled.reject(new TrackError("timeout", "Upstream did not answer SUBSCRIBE"));
      }
    }, SUBSCRIBE_TIMEOUT_MS);
    try {
      await pending.settled.promise;
    } finally {
      clearTimeout(timer);
    }
    const incoming = this.#byRequest.get(requestId);
    track.closed.then(() => {
      if (incoming && !incoming.endedByPeer && !this.#closed) {
        core.send({ type: "unsubscribe", requestId });
      }
    });
  }

  onSubscribeReply(msg: SubscribeOk | SubscribeError): boolean {
    const pending = this.#pending.get(msg.requestId);
    if (!pending) return false;
    this.#pending.delete(msg.requestId);
    if (msg.type === "subscribe_error") {
      pending.settled.reject(
        new TrackError(reasonOf(msg.errorCode), `Upstream refused SUBSCRIBE: ${msg.reason}`),
      );
      return true;
    }
    // The publisher says it will send datagrams only when we accepted them.
    const datagrams = pending.datagrams && readDatagramLane(msg.parameters);
    if (!this.#bind(msg.requestId, msg.trackAlias, pending.track, datagrams)) return true;
    const capability = readCapability(msg.parameters);
    if (capability) pending.track.setCapability(capability);
    if (datagrams) pending.track.setDatagrams(true);
    pending.settled.resolve();
    return true;
  }

  onPublishDone(msg: PublishDone): boolean {
    const incoming = this.#byRequest.get(msg.requestId);
    // A PUBLISH_DONE that crossed our UNSUBSCRIBE of the peer's PUBLISH: late, not unknown.
    if (!incoming) return this.#unsubscribed.delete(msg.requestId);
    incoming.endedByPeer = true;
    this.#forget(incoming);
    // PUBLISH_DONE's stream count cannot be trusted (@moq/net always sends 0): end now.
    if (msg.statusCode === PublishDoneCode.GOING_AWAY) {
      incoming.track.abort(new TrackError("going_away", msg.reason));
    } else incoming.track.close();
    return true;
  }

  onPublishNamespace(msg: PublishNamespace): void {
    const core = this.#core;
    if (!core.authorize("publish", msg.namespace)) {
      core.send({
        type: "publish_namespace_error",
        requestId: msg.requestId,
        errorCode: PublishNamespaceErrorCode.UNAUTHORIZED,
        reason: "Not authorized to publish here",
      });
      return;
    }
    const key = JSON.stringify(msg.namespace);
    // A repeated PUBLISH_NAMESPACE for a namespace this peer already publishes (a retry) is
    // simply acknowledged again.
    if (!this.#namespaces.has(key)) {
      try {
        this.#namespaces.set(
          key,
          core.origin.publishNamespace(msg.namespace, this, {
            takeover: true,
            owner: core.authorize.identity,
          }),
        );
      } catch (error) {
        core.send({
          type: "publish_namespace_error",
          requestId: msg.requestId,
          errorCode: error instanceof TrackError && error.reason === "unauthorized"
            ? PublishNamespaceErrorCode.UNAUTHORIZED
            : PublishNamespaceErrorCode.INTERNAL_ERROR,
          reason: (error as Error).message,
        });
        return;
      }
    }
    core.send({ type: "publish_namespace_ok", requestId: msg.requestId });
  }

  onPublishNamespaceDone(msg: PublishNamespaceDone): void {
    const key = JSON.stringify(msg.namespace);
    this.#namespaces.get(key)?.close();
    this.#namespaces.delete(key);
  }

  onPublish(msg: Publish): void {
    const core = this.#core;
    const refuse = (errorCode: number, reason: string) =>
      core.send({ type: "publish_error", requestId: msg.requestId, errorCode, reason });
    if (!core.authorize("publish", msg.namespace)) {
      return refuse(PublishErrorCode.UNAUTHORIZED, "Not authorized to publish here");
    }
    let track: TrackProducer;
    // A relay accepts an offered datagram lane (and forwards on streams to whoever did not).
    const datagrams = readDatagramLane(msg.parameters);
    try {
      // A peer's PUBLISH of a track its own identity still publishes through another
      // session (a reconnect after a network change) takes the track over: the old
      // session's publication ends (UNSUBSCRIBE to it, below) and the subscribers stay.
      track = core.origin.publishTrack({
        namespace: msg.namespace,
        name: msg.name,
        capability: readCapability(msg.parameters),
        datagrams: datagrams || undefined,
      }, { takeover: true, owner: core.authorize.identity });
    } catch (error) {
      const unauthorized = error instanceof TrackError && error.reason === "unauthorized";
      return refuse(
        unauthorized ? PublishErrorCode.UNAUTHORIZED : PublishErrorCode.INTERNAL_ERROR,
        (error as Error).message,
      );
    }
    if (!this.#bind(msg.requestId, msg.trackAlias, track, datagrams)) return;
    const incoming = this.#byRequest.get(msg.requestId)!;
    // When the track ends on our side (the relay ended the call's tracks), tell the peer to
    // stop publishing it: draft-14 ends a PUBLISH-initiated subscription with UNSUBSCRIBE too.
    track.closed.then((error) => {
      if (incoming.endedByPeer || this.#closed) return;
      if (error instanceof TrackError && error.reason === "superseded") {
        core.log.info("Publication taken over by a newer publisher", {
          requestId: msg.requestId,
          reason: error.message,
        });
      }
      core.send({ type: "unsubscribe", requestId: msg.requestId });
      this.#unsubscribed.add(msg.requestId);
      if (this.#unsubscribed.size > REMEMBERED_UNSUBSCRIBES) {
        this.#unsubscribed.delete(this.#unsubscribed.values().next().value!);
      }
    });
    core.send({
      type: "publish_ok",
      requestId: msg.requestId,
      forward: true,
      subscriberPriority: 128,
      groupOrder: GroupOrder.ASCENDING,
      filter: { type: "largest_object" },
      parameters: withDatagramLane(new Map(), datagrams),
    });
  }

  /** Reads one subgroup stream into its track. */
  async onSubgroup(header: SubgroupHeader, reader: StreamReader): Promise<void> {
    const incoming = await this.#awaitAlias(header.trackAlias);
    if (!incoming) {
      await reader.cancel(new Error("Unknown track alias")).catch(() => {}); // the stream is already reset or the connection gone
      return;
    }
    const { track, open } = incoming;
    const group = track.appendGroup(header.groupId);
    if (group.done) {
      await reader.cancel().catch(() => {}); // the stream is already reset or the connection gone
      return;
    }
    // A newer group supersedes older unfinished ones, unless this peer ends groups by FIN.
    incoming.groupEnds.groupStarted(header.groupId);
    const entry: OpenGroup = { group, reader };
    open.set(header.groupId, entry);
    try {
      let prev: number | undefined;
      for (;;) {
        // Decode what is buffered synchronously; wait (one read) only when an object is short.
        const object = decodeSubgroupObject(reader, header, prev);
        if (object === SHORT) {
          if (await reader.fill()) continue;
          if (reader.buffered > 0) {
            throw fail("subgroup object", "the stream ended in the middle of an object");
          }
          // A clean end we did not cause ourselves (by cancelling a superseded group) is
          // the peer's FIN.
          if (open.get(header.groupId) === entry) this.groupEnds.finSeen();
          break;
        }
        prev = object.objectId;
        if (object.status === ObjectStatus.NORMAL) {
          const { timestamp, extensions } = splitTimestamp(object.extensions);
          group.write({ id: object.objectId, payload: object.payload, timestamp, extensions });
        } else if (object.status === ObjectStatus.END_OF_GROUP) {
          break;
        } else if (object.status === ObjectStatus.END_OF_TRACK) {
          group.close();
          track.close();
          break;
        }
      }
    } catch (error) {
      // Once we ended the group ourselves (superseded, or the track closed), we cancelled its
      // stream, and the read stops wherever it was, often mid-object. That truncation is ours,
      // not the peer's protocol violation: it must not close the publisher's session.
      if (open.get(header.groupId) === entry) throw error;
    } finally {
      group.close();
      if (open.get(header.groupId) === entry) {
        open.delete(header.groupId);
        incoming.groupEnds.groupEnded(header.groupId);
      }
    }
  }

  onDatagram(datagram: ObjectDatagram): void {
    const incoming = this.#byAlias.get(datagram.trackAlias);
    if (!incoming) return; // unknown or finished track: datagrams are droppable
    if (!incoming.datagrams) {
      // We did not accept the lane for this track: a peer that does not want datagrams
      // never gets them, even from a publisher that sends them anyway.
      this.unnegotiatedDatagrams++;
      return;
    }
    let entry = incoming.open.get(datagram.groupId);
    if (!entry) {
      const group = incoming.track.appendGroup(datagram.groupId);
      if (group.done) return;
      entry = { group };
      incoming.open.set(datagram.groupId, entry);
      for (const [id, older] of incoming.open) {
        if (id < datagram.groupId) {
          older.group.close();
          incoming.open.delete(id);
        }
      }
    }
    if (datagram.status === ObjectStatus.NORMAL) {
      const { timestamp, extensions } = splitTimestamp(datagram.extensions);
      entry.group.write({
        id: datagram.objectId,
        payload: datagram.payload,
        timestamp,
        extensions,
        datagram: true,
      });
    }
    if (datagram.endOfGroup || datagram.status === ObjectStatus.END_OF_GROUP) {
      entry.group.close();
      incoming.open.delete(datagram.groupId);
    }
  }

  /** Ends everything received from this peer: the session is closing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const gone = new TrackError("going_away", "The publisher's session closed");
    for (const pending of this.#pending.values()) pending.settled.reject(gone);
    this.#pending.clear();
    for (const incoming of [...this.#byRequest.values()]) {
      this.#forget(incoming);
      incoming.track.abort(gone);
    }
    for (const registration of this.#namespaces.values()) registration.close();
    this.#namespaces.clear();
    for (const wake of this.#aliasWaiters) wake();
  }

  #bind(requestId: number, trackAlias: number, track: TrackProducer, datagrams: boolean): boolean {
    if (this.#byAlias.has(trackAlias)) {
      this.#core.fail(
        "duplicate_track_alias",
        `Track alias ${trackAlias} is in use`,
      );
      return false;
    }
    const open = new Map<number, OpenGroup>();
    const groupEnds = this.groupEnds.tracker((id) => {
      const older = open.get(id);
      if (!older) return;
      older.group.close();
      older.reader?.cancel().catch(() => {}); // the stream is ours to drop; nothing to report
      open.delete(id);
    });
    const incoming: Incoming = {
      requestId,
      track,
      open,
      groupEnds,
      endedByPeer: false,
      datagrams,
    };
    this.#byRequest.set(requestId, incoming);
    this.#byAlias.set(trackAlias, incoming);
    track.closed.then(() => this.#forget(incoming));
    for (const wake of this.#aliasWaiters) wake();
    return true;
  }

  #forget(incoming: Incoming): void {
    if (this.#byRequest.get(incoming.requestId) !== incoming) return;
    this.#byRequest.delete(incoming.requestId);
    for (const [alias, entry] of this.#byAlias) {
      if (entry === incoming) this.#byAlias.delete(alias);
    }
    incoming.groupEnds[Symbol.dispose]();
    for (const { group, reader } of incoming.open.values()) {
      group.close();
      reader?.cancel().catch(() => {}); // the stream is already reset or the connection gone
    }
    incoming.open.clear();
  }

  async #awaitAlias(alias: number): Promise<Incoming | undefined> {
    const deadline = Date.now() + ALIAS_WAIT_MS;
    for (;;) {
      const incoming = this.#byAlias.get(alias);
      if (incoming || this.#closed) return incoming;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => wake = resolve);
      this.#aliasWaiters.add(wake);
      const timer = setTimeout(wake, left);
      await woken;
      clearTimeout(timer);
      this.#aliasWaiters.delete(wake);
    }
  }
}
