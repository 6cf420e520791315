/**
 * The publisher half of a draft-14 session: serves the peer's SUBSCRIBEs from the origin
 * (one {@linkcode TrackForwarder} each), pushes local tracks with PUBLISH, answers
 * SUBSCRIBE_NAMESPACE by announcing matching namespaces, and answers TRACK_STATUS and FETCH.
 *
 * @module
 */
import {
  type Registration,
  type TrackConsumer,
  TrackError,
  type TrackInfo,
} from "../../model/mod.ts";
import {
  FetchErrorCode,
  PublishDoneCode,
  PublishErrorCode,
  SubscribeErrorCode,
  subscribeErrorCode,
  SubscribeNamespaceErrorCode,
} from "./error_codes.ts";
import type {
  Fetch,
  PublishError,
  PublishNamespaceCancel,
  PublishNamespaceError,
  PublishNamespaceOk,
  PublishOk,
  Subscribe,
  SubscribeNamespace,
  SubscribeUpdate,
  TrackStatus,
  Unsubscribe,
  UnsubscribeNamespace,
} from "./messages.ts";
import { GroupOrder } from "./messages.ts";
import { capabilityParameters } from "./capability_parameter.ts";
import { readDatagramLane, withDatagramLane } from "./datagram_lane.ts";
import type { Parameters } from "./parameters.ts";
import type { SessionCore } from "./session_core.ts";
import { TrackForwarder } from "./track_forwarder.ts";

interface Serving {
  forwarder?: TrackForwarder;
  abort: AbortController;
  forward: boolean;
}

interface Pushing {
  readonly consumer: TrackConsumer;
  forwarder?: TrackForwarder;
  /** Resolves with PUBLISH_OK's parameters. */
  readonly accepted: PromiseWithResolvers<Parameters>;
}

/** @internal The publisher half of a session. */
export class Publisher {
  readonly #core: SessionCore;
  readonly #serving = new Map<number, Serving>();
  readonly #pushing = new Map<number, Pushing>();
  /** Set by {@linkcode close}: nothing new is published on a closed session. */
  #closed = false;
  readonly #watches = new Map<number, Registration>();
  readonly #announcing = new Map<number, string>();
  #nextAlias = 0;

  constructor(core: SessionCore) {
    this.#core = core;
  }

  /** Subscriptions being served, for stats. */
  get servingCount(): number {
    return this.#serving.size;
  }

  async onSubscribe(msg: Subscribe): Promise<void> {
    const core = this.#core;
    const { requestId, namespace, name } = msg;
    const refuse = (errorCode: number, reason: string) => {
      this.#serving.delete(requestId);
      core.send({ type: "subscribe_error", requestId, errorCode, reason });
    };
    if (!core.authorize("subscribe", namespace)) {
      return refuse(SubscribeErrorCode.UNAUTHORIZED, "Not authorized to subscribe here");
    }
    const serving: Serving = { abort: new AbortController(), forward: msg.forward };
    this.#serving.set(requestId, serving);
    let consumer: TrackConsumer;
    try {
      consumer = await core.origin.subscribe(namespace, name, { signal: serving.abort.signal });
    } catch (error) {
      if (serving.abort.signal.aborted) return; // UNSUBSCRIBE or session end came first
      if (error instanceof TrackError) {
        return refuse(subscribeErrorCode(error.reason), error.message);
      }
      return refuse(SubscribeErrorCode.INTERNAL_ERROR, "Cannot subscribe to track");
    }
    if (serving.abort.signal.aborted) return consumer.close();
    const trackAlias = this.#nextAlias++;
    const latest = consumer.lastGroupId + 1; // the group a new consumer starts at
    const filter = msg.filter;
    const startGroup = filter.type === "next_group_start"
      ? latest + 1
      : filter.type === "absolute_start" || filter.type === "absolute_range"
      ? filter.start.group
      : 0;
    // Datagrams only when this track offers the lane and this subscriber asked for it.
    const datagrams = consumer.info.datagrams === true && readDatagramLane(msg.parameters);
    const forwarder = new TrackForwarder(core.transport, consumer, {
      trackAlias,
      maxInFlightGroups: core.maxInFlightGroups,
      startGroup,
      endGroup: filter.type === "absolute_range" ? filter.endGroup : undefined,
      datagrams,
      tally: core.tally,
    }, !serving.forward);
    serving.forwarder = forwarder;
    core.send({
      type: "subscribe_ok",
      requestId,
      trackAlias,
      expires: 0,
      groupOrder: GroupOrder.ASCENDING,
      largest: latest > 0 ? { group: latest - 1, object: 0 } : undefined,
      parameters: withDatagramLane(capabilityParameters(consumer.info.capability), datagrams),
    });
    const outcome = await forwarder.run();
    if (this.#serving.get(requestId) !== serving) return;
    this.#serving.delete(requestId);
    if (outcome === "stopped") return;
    const error = await Promise.race([consumer.closed, Promise.resolve(undefined)]);
    consumer.close();
    core.send({
      type: "publish_done",
      requestId,
      statusCode: outcome === "range"
        ? PublishDoneCode.SUBSCRIPTION_ENDED
        : error instanceof TrackError && error.reason === "going_away"
        ? PublishDoneCode.GOING_AWAY
        : error
        ? PublishDoneCode.INTERNAL_ERROR
        : PublishDoneCode.TRACK_ENDED,
      streamCount: forwarder.streamCount,
      reason: outcome === "range"
        ? "Subscription range delivered"
        : error
        ? "Track failed"
        : "Track ended",
    });
  }

  onSubscribeUpdate(msg: SubscribeUpdate): void {
    const serving = this.#serving.get(msg.subscriptionRequestId);
    if (!serving) return; // raced with the track's end
    serving.forward = msg.forward;
    serving.forwarder?.setForward(msg.forward);
  }

  onUnsubscribe(msg: Unsubscribe): void {
    const pushing = this.#pushing.get(msg.requestId);
    if (pushing) {
      // The peer no longer wants a track we PUBLISHed (e.g. a relay ending a call's tracks):
      // stop sending it. No PUBLISH_DONE follows; the subscription is over for both sides.
      this.#pushing.delete(msg.requestId);
      pushing.forwarder?.stop();
      pushing.consumer.close();
      pushing.accepted.reject(new TrackError("closed", "The peer unsubscribed"));
      return;
    }
    const serving = this.#serving.get(msg.requestId);
    if (!serving) return; // already ended: PUBLISH_DONE crossed the UNSUBSCRIBE
    this.#serving.delete(msg.requestId);
    serving.abort.abort();
    serving.forwarder?.stop();
  }

  onTrackStatus(msg: TrackStatus): void {
    // A status query never waits: it reports what the relay has right now.
    const core = this.#core;
    core.origin.subscribe(msg.namespace, msg.name, { timeoutMs: 0 }).then((consumer) => {
      const latest = consumer.lastGroupId + 1;
      const capability = consumer.info.capability;
      consumer.close();
      core.send({
        type: "track_status_ok",
        requestId: msg.requestId,
        trackAlias: 0,
        expires: 0,
        groupOrder: GroupOrder.ASCENDING,
        largest: latest > 0 ? { group: latest - 1, object: 0 } : undefined,
        parameters: capabilityParameters(capability),
      });
    }, () => {
      core.send({
        type: "track_status_error",
        requestId: msg.requestId,
        errorCode: SubscribeErrorCode.TRACK_DOES_NOT_EXIST,
        reason: "Track does not exist",
      });
    });
  }

  onFetch(msg: Fetch): void {
    this.#core.send({
      type: "fetch_error",
      requestId: msg.requestId,
      errorCode: FetchErrorCode.NOT_SUPPORTED,
      reason: "This relay forwards live objects only and keeps no cache to fetch from",
    });
  }

  onSubscribeNamespace(
    msg: SubscribeNamespace,
    ownNamespaces: (ns: readonly string[]) => boolean,
  ): void {
    const core = this.#core;
    if (!core.authorize("subscribe", msg.namespacePrefix)) {
      core.send({
        type: "subscribe_namespace_error",
        requestId: msg.requestId,
        errorCode: SubscribeNamespaceErrorCode.UNAUTHORIZED,
        reason: "Not authorized to subscribe here",
      });
      return;
    }
    core.send({ type: "subscribe_namespace_ok", requestId: msg.requestId });
    const watch = core.origin.watchNamespaces(msg.namespacePrefix, async (event) => {
      if (ownNamespaces(event.namespace)) return;
      if (!event.active) {
        core.send({ type: "publish_namespace_done", namespace: [...event.namespace] });
        return;
      }
      const requestId = await core.nextRequestId();
      this.#announcing.set(requestId, event.namespace.join("/"));
      core.send({
        type: "publish_namespace",
        requestId,
        namespace: [...event.namespace],
        parameters: new Map(),
      });
    });
    this.#watches.set(msg.requestId, watch);
  }

  onUnsubscribeNamespace(msg: UnsubscribeNamespace): void {
    for (const [id, watch] of this.#watches) {
      if (msg.requestId === id) {
        watch.close();
        this.#watches.delete(id);
      }
    }
    if (msg.namespacePrefix) {
      // Earlier drafts identify the subscription by prefix; close all for simplicity.
      for (const watch of this.#watches.values()) watch.close();
      this.#watches.clear();
    }
  }

  /** PUBLISH_NAMESPACE_OK / _ERROR for namespaces we announced to the peer. */
  onAnnounceReply(msg: PublishNamespaceOk | PublishNamespaceError): boolean {
    return this.#announcing.delete(msg.requestId);
  }

  onPublishNamespaceCancel(msg: PublishNamespaceCancel): void {
    this.#core.log.debug("Peer cancelled a namespace we announced", {
      namespace: msg.namespace.join("/"),
      reason: msg.reason,
    });
  }

  /** Pushes a local track to the peer with PUBLISH; resolves once the peer accepted it. */
  async publish(consumer: TrackConsumer): Promise<TrackForwarder> {
    const core = this.#core;
    const closed = () => new TrackError("closed", "Cannot publish: the session is closed");
    if (this.#closed) throw closed();
    const requestId = await core.nextRequestId();
    // A PUBLISH_OK can no longer come once the session closed: refuse rather than wait for ever.
    if (this.#closed) throw closed();
    const info: TrackInfo = consumer.info;
    const trackAlias = this.#nextAlias++;
    const pushing: Pushing = { consumer, accepted: Promise.withResolvers() };
    pushing.accepted.promise.catch(() => {}); // awaited below; this only marks it handled
    this.#pushing.set(requestId, pushing);
    core.send({
      type: "publish",
      requestId,
      namespace: [...info.namespace],
      name: info.name,
      trackAlias,
      groupOrder: GroupOrder.ASCENDING,
      largest: undefined,
      forward: true,
      parameters: withDatagramLane(capabilityParameters(info.capability), info.datagrams),
    });
    const accepted = await pushing.accepted.promise;
    const forwarder = new TrackForwarder(core.transport, consumer, {
      trackAlias,
      maxInFlightGroups: core.maxInFlightGroups,
      // The lane was offered in PUBLISH; it is used only if PUBLISH_OK accepted it.
      datagrams: info.datagrams === true && readDatagramLane(accepted),
      tally: core.tally,
    });
    pushing.forwarder = forwarder;
    forwarder.run().then((outcome) => {
      if (this.#pushing.get(requestId) !== pushing) return;
      this.#pushing.delete(requestId);
      if (outcome === "stopped") return;
      core.send({
        type: "publish_done",
        requestId,
        statusCode: PublishDoneCode.TRACK_ENDED,
        streamCount: forwarder.streamCount,
        reason: "Track ended",
      });
    });
    return forwarder;
  }

  onPublishReply(msg: PublishOk | PublishError): boolean {
    const pushing = this.#pushing.get(msg.requestId);
    if (!pushing) return false;
    if (msg.type === "publish_ok") {
      pushing.accepted.resolve(msg.parameters);
    } else {
      this.#pushing.delete(msg.requestId);
      pushing.consumer.close();
      const reason = msg.errorCode === PublishErrorCode.UNAUTHORIZED
        ? "unauthorized"
        : msg.errorCode === PublishErrorCode.TIMEOUT
        ? "timeout"
        : "internal";
      pushing.accepted.reject(new TrackError(reason, `Peer refused PUBLISH: ${msg.reason}`));
    }
    return true;
  }

  /** Stops everything: the session is closing. */
  close(): void {
    this.#closed = true;
    for (const serving of this.#serving.values()) {
      serving.abort.abort();
      serving.forwarder?.stop();
    }
    this.#serving.clear();
    for (const pushing of this.#pushing.values()) {
      pushing.forwarder?.stop();
      pushing.consumer.close();
      pushing.accepted.reject(new TrackError("closed", "Session closed"));
    }
    this.#pushing.clear();
    for (const watch of this.#watches.values()) watch.close();
    this.#watches.clear();
  }
}
