/**
 * Sends one track to one peer as draft-14 subgroup streams: one unidirectional stream per
 * group, objects written as they arrive (never waiting for a group to finish), at most
 * `maxInFlightGroups` group streams open at once. When a reader is too slow and a new group
 * would exceed that bound, the oldest unfinished group stream is reset: a slow subscriber
 * loses whole stale groups instead of building a backlog, and never slows the publisher or
 * the other subscribers (they read the same cached objects independently). On the datagram
 * lane, when it was negotiated with this peer, each object goes out as one OBJECT_DATAGRAM.
 *
 * @module
 */
import type { GroupConsumer, MoqObject, TrackConsumer } from "../../model/mod.ts";
import type { MoqTransport } from "../../transport/transport.ts";
import { encodeDatagram } from "./datagram.ts";
import { joinTimestamp } from "./extensions.ts";
import {
  encodeSubgroupHeader,
  encodeSubgroupObjectHeader,
  subgroupHeaderType,
} from "./subgroup_stream.ts";
import { StreamResetCode } from "./error_codes.ts";
import { objectBytes } from "../coding/byte_slab.ts";
// The plain tally's type, not the registry: browsers bundle this file.
import type { RelayTally } from "../../../metrics/tally.ts";

/** Subgroup 0, extensions present, FIN ends the group: what every peer here accepts. */
const HEADER_TYPE = subgroupHeaderType({
  subgroupIdMode: "zero",
  extensions: true,
  endOfGroup: true,
});

/**
 * Object writes queued on one group stream before the forwarder waits for the oldest: enough
 * that a burst (a late joiner's cached group) flows without a round trip per object, few
 * enough that a stalled stream holds little.
 */
const MAX_WRITES_IN_FLIGHT = 16;

/** Options for a {@linkcode TrackForwarder}. */
export interface TrackForwarderOptions {
  readonly trackAlias: number;
  readonly publisherPriority?: number;
  /** Group streams open at once before the oldest is dropped [4]. */
  readonly maxInFlightGroups?: number;
  /** Skip groups below this id (subscription filters). */
  readonly startGroup?: number;
  /** Stop after this group id (AbsoluteRange). */
  readonly endGroup?: number;
  /**
   * Send objects as OBJECT_DATAGRAMs instead of group streams: only when the lane was
   * negotiated with this peer (see `datagram_lane.ts`) [false].
   */
  readonly datagrams?: boolean;
  /**
   * Process counters this forwarder adds its objects and dropped groups to, besides its own
   * {@linkcode TrackForwarder.stats}: a relay's sessions pass the relay's tally; a client's
   * pass none, since what a client sends is counted by the relay it reaches [none].
   */
  readonly tally?: RelayTally;
}

/** Counters of one forwarder. */
export interface ForwarderStats {
  /** Groups started: subgroup streams opened, plus groups sent as datagrams. */
  groups: number;
  /** Objects written to a group stream or sent as a datagram. */
  objects: number;
  /** Group streams reset because `maxInFlightGroups` was exceeded (not those reset by stop). */
  droppedGroups: number;
  /** Datagram objects too large for the connection's datagram size, dropped. */
  oversizedDatagrams: number;
}

/**
 * Encoded objects shared by every subscriber. An object is almost always written with
 * object-id delta 0 (object 0 opening a stream, or the object right after the previous one),
 * and then its bytes are the same on every subscriber's stream: encode once, write to all.
 */
const sharedFrames = new WeakMap<MoqObject, Uint8Array>();

/** Where an object's header fields are encoded before they are copied into its frame. */
const headScratch = new Uint8Array(64);

function encodeObjectFrame(object: MoqObject, prev: number | undefined): Uint8Array {
  const shareable = prev === undefined ? object.id === 0 : object.id === prev + 1;
  if (shareable) {
    const cached = sharedFrames.get(object);
    if (cached) return cached;
  }
  // The header goes to a scratch buffer and the frame to the shared slab: one copy of the
  // payload, no ArrayBuffer of its own per object.
  const head = encodeSubgroupObjectHeader(HEADER_TYPE, prev, {
    objectId: object.id,
    status: 0,
    payload: object.payload,
    extensions: joinTimestamp(object.timestamp, object.extensions),
  }, headScratch);
  const frame = objectBytes.alloc(head.length + object.payload.length);
  frame.set(head);
  frame.set(object.payload, head.length);
  if (shareable) sharedFrames.set(object, frame);
  return frame;
}

class GroupSend {
  constructor(readonly group: GroupConsumer) {}
  writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  dropped = false;
}

/**
 * Forwards `consumer` to `transport` under `trackAlias` until the track ends or
 * {@linkcode stop} is called.
 *
 * @example
 * ```ts ignore
 * import { TrackForwarder } from "./track_forwarder.ts";
 * const forwarder = new TrackForwarder(transport, consumer, { trackAlias: 1 });
 * await forwarder.run(); // resolves when the track ends
 * ```
 */
export class TrackForwarder {
  /** This forwarder's counters, updated as it sends. */
  readonly stats: ForwarderStats = {
    groups: 0,
    objects: 0,
    droppedGroups: 0,
    oversizedDatagrams: 0,
  };
  readonly #transport: MoqTransport;
  readonly #consumer: TrackConsumer;
  readonly #alias: number;
  readonly #priority: number;
  readonly #maxInFlight: number;
  readonly #startGroup: number;
  readonly #endGroup: number;
  readonly #datagrams: boolean;
  readonly #tally: RelayTally | undefined;
  readonly #inFlight: GroupSend[] = [];
  #paused: boolean;
  #resume: (() => void) | undefined;
  #stopped = false;

  /** Creates a forwarder; nothing is sent before {@linkcode run}. */
  constructor(
    transport: MoqTransport,
    consumer: TrackConsumer,
    {
      trackAlias,
      publisherPriority = 128,
      maxInFlightGroups = 4,
      startGroup = 0,
      endGroup = Infinity,
      datagrams = false,
      tally,
    }: TrackForwarderOptions,
    paused = false,
  ) {
    this.#transport = transport;
    this.#consumer = consumer;
    this.#alias = trackAlias;
    this.#priority = publisherPriority;
    this.#maxInFlight = Math.max(1, maxInFlightGroups);
    this.#startGroup = startGroup;
    this.#endGroup = endGroup;
    this.#datagrams = datagrams;
    this.#tally = tally;
    this.#paused = paused;
  }

  /** Group streams opened so far (PUBLISH_DONE's stream count). */
  get streamCount(): number {
    return this.stats.groups;
  }

  /** Stops or resumes sending new groups (SUBSCRIBE_UPDATE forward). */
  setForward(forward: boolean): void {
    this.#paused = !forward;
    if (forward) this.#resume?.();
  }

  /**
   * Forwards groups until the track ends (`"ended"`), the end group was sent (`"range"`), or
   * {@linkcode stop} (`"stopped"`).
   */
  async run(): Promise<"ended" | "range" | "stopped"> {
    const sends: Promise<void>[] = [];
    try {
      for (;;) {
        if (this.#paused) {
          await new Promise<void>((resolve) => this.#resume = resolve);
          this.#resume = undefined;
        }
        if (this.#stopped) return "stopped";
        const group = await this.#consumer.nextGroup();
        if (this.#stopped) {
          group?.cancel();
          return "stopped";
        }
        if (!group) return "ended";
        if (group.id < this.#startGroup || this.#paused) {
          group.cancel();
          continue;
        }
        const send = new GroupSend(group);
        this.#inFlight.push(send);
        while (this.#inFlight.length > this.#maxInFlight) this.#drop(this.#inFlight[0]);
        const done = this.#send(send);
        sends.push(done);
        done.finally(() => sends.splice(sends.indexOf(done), 1));
        if (group.id >= this.#endGroup) {
          await Promise.allSettled(sends);
          return "range";
        }
      }
    } finally {
      if (!this.#stopped) await Promise.allSettled(sends);
    }
  }

  /** Stops forwarding: open group streams are reset. A second stop is a no-op. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#resume?.();
    this.#consumer.close();
    for (const send of [...this.#inFlight]) this.#drop(send, StreamResetCode.CANCELLED);
  }

  /** Sends a group as datagrams (the negotiated lane), unreliably. */
  async #sendDatagrams(send: GroupSend, first: MoqObject): Promise<void> {
    const max = this.#transport.maxDatagramSize;
    this.stats.groups++;
    for (
      let object: MoqObject | undefined = first;
      object;
      object = send.group.tryReadObject() ?? await send.group.readObject()
    ) {
      if (send.dropped) return;
      const bytes = encodeDatagram({
        trackAlias: this.#alias,
        groupId: send.group.id,
        objectId: object.id,
        publisherPriority: this.#priority,
        endOfGroup: false,
        status: 0,
        payload: object.payload,
        extensions: joinTimestamp(object.timestamp, object.extensions),
      });
      if (bytes.length > max) {
        this.stats.oversizedDatagrams++;
        continue;
      }
      this.stats.objects++;
      if (this.#tally) this.#tally.objects++;
      this.#transport.sendDatagram(bytes);
    }
  }

  #drop(send: GroupSend, code: number = StreamResetCode.DELIVERY_TIMEOUT): void {
    const at = this.#inFlight.indexOf(send);
    if (at >= 0) this.#inFlight.splice(at, 1);
    if (send.dropped) return;
    send.dropped = true;
    send.group.cancel();
    if (code === StreamResetCode.DELIVERY_TIMEOUT) {
      this.stats.droppedGroups++;
      if (this.#tally) this.#tally.droppedGroups++;
    }
    send.writer?.abort(code).catch(() => {}); // the stream is already reset or the connection gone
  }

  async #send(send: GroupSend): Promise<void> {
    const { group } = send;
    let writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
    try {
      const first = await group.readObject();
      if (!first || send.dropped) return;
      // The lane is negotiated per subscriber: how the publisher sent an object upstream does
      // not decide how it goes out (a peer that did not accept datagrams never gets one).
      if (this.#datagrams) return await this.#sendDatagrams(send, first);
      // No sendOrder: QUIC send order is a strict priority across the whole connection, and
      // group ids of different tracks are not comparable (an old track would starve a new one).
      const stream = await this.#transport.openUni();
      writer = stream.getWriter();
      if (send.dropped) {
        writer.abort(StreamResetCode.DELIVERY_TIMEOUT).catch(() => {}); // the stream is already reset or the connection gone
        return;
      }
      send.writer = writer;
      this.stats.groups++;
      writer.write(encodeSubgroupHeader({
        headerType: HEADER_TYPE,
        trackAlias: this.#alias,
        groupId: group.id,
        subgroupId: 0,
        publisherPriority: this.#priority,
      })).catch(() => {}); // a reset stream: the object writes below see it and stop
      // Writes are not awaited one by one (each await is an op round trip plus queue
      // promises): up to MAX_WRITES_IN_FLIGHT are queued on the stream, and the loop waits
      // only when that many are still pending. A failed write ends the group.
      let inFlight = 0;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const written = () => {
        inFlight--;
        wake?.();
      };
      const broken = (error: unknown) => {
        failure ??= error;
        written();
      };
      let prev: number | undefined;
      for (
        let object: MoqObject | undefined = first;
        object;
        object = group.tryReadObject() ?? await group.readObject()
      ) {
        if (send.dropped) return;
        if (failure !== undefined) throw failure;
        const frame = encodeObjectFrame(object, prev);
        prev = object.id;
        this.stats.objects++;
        if (this.#tally) this.#tally.objects++;
        inFlight++;
        writer.write(frame).then(written, broken);
        while (inFlight >= MAX_WRITES_IN_FLIGHT && failure === undefined && !send.dropped) {
          await new Promise<void>((resolve) => wake = resolve);
          wake = undefined;
        }
      }
      if (failure !== undefined) throw failure;
      if (!send.dropped) await writer.close();
    } catch {
      // The peer reset or stopped the stream, or the connection went away: this group is lost.
      if (!send.dropped) writer?.abort(StreamResetCode.INTERNAL_ERROR).catch(() => {}); // the stream is already reset or the connection gone
    } finally {
      const at = this.#inFlight.indexOf(send);
      if (at >= 0) this.#inFlight.splice(at, 1);
    }
  }
}
