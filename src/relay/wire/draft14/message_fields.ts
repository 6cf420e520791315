/**
 * Field readers and writers shared by several draft-14 control messages: full track
 * names, group order, subscription filters, reason phrases, Largest Location and the
 * common *_ERROR layout.
 *
 * @module
 */
import {
  type BufferReader,
  type BufferWriter,
  type Location,
  MAX_FULL_TRACK_NAME_LENGTH,
} from "../coding/buffer.ts";
import { FilterType, MAX_REASON_LENGTH } from "./message_constants.ts";
import type { RequestErrorFields, SubscriptionFilter } from "./message_types.ts";

export function readFullTrackName(r: BufferReader): { namespace: string[]; name: string } {
  const namespace = r.tuple();
  const nameBytes = r.lengthPrefixedBytes();
  let total = nameBytes.length;
  for (const field of namespace) total += utf8Length(field);
  if (total > MAX_FULL_TRACK_NAME_LENGTH) {
    throw r.error(`full track name is longer than ${MAX_FULL_TRACK_NAME_LENGTH} bytes`);
  }
  return { namespace, name: r.utf8(nameBytes) };
}

const encoder = new TextEncoder();
function utf8Length(s: string): number {
  return encoder.encode(s).length;
}

export function writeFullTrackName(
  w: BufferWriter,
  namespace: readonly string[],
  name: string,
): void {
  w.tuple(namespace);
  const nameBytes = encoder.encode(name);
  let total = nameBytes.length;
  for (const field of namespace) total += utf8Length(field);
  if (total > MAX_FULL_TRACK_NAME_LENGTH) {
    throw new RangeError(
      `Cannot encode full track name: longer than ${MAX_FULL_TRACK_NAME_LENGTH} bytes`,
    );
  }
  w.lengthPrefixedBytes(nameBytes);
}

export function readGroupOrder(r: BufferReader, allowPublisher: boolean): number {
  const v = r.u8();
  if (v > 2 || (v === 0 && !allowPublisher)) {
    throw r.error(`invalid group order ${v}`);
  }
  return v;
}

export function checkGroupOrder(v: number, allowPublisher: boolean): number {
  if (!Number.isInteger(v) || v < (allowPublisher ? 0 : 1) || v > 2) {
    throw new RangeError(`Cannot encode group order: ${v} is not valid here`);
  }
  return v;
}

export function readFilter(r: BufferReader): SubscriptionFilter {
  const t = r.varint();
  switch (t) {
    case FilterType.NEXT_GROUP_START:
      return { type: "next_group_start" };
    case FilterType.LARGEST_OBJECT:
      return { type: "largest_object" };
    case FilterType.ABSOLUTE_START:
      return { type: "absolute_start", start: r.location() };
    case FilterType.ABSOLUTE_RANGE: {
      const start = r.location();
      const endGroup = r.varint();
      if (endGroup < start.group) {
        throw r.error(`end group ${endGroup} is before start group ${start.group}`);
      }
      return { type: "absolute_range", start, endGroup };
    }
    default:
      throw r.error(`unknown filter type ${t}`);
  }
}

export function writeFilter(w: BufferWriter, f: SubscriptionFilter): void {
  switch (f.type) {
    case "next_group_start":
      w.varint(FilterType.NEXT_GROUP_START);
      break;
    case "largest_object":
      w.varint(FilterType.LARGEST_OBJECT);
      break;
    case "absolute_start":
      w.varint(FilterType.ABSOLUTE_START).location(f.start);
      break;
    case "absolute_range":
      if (f.endGroup < f.start.group) {
        throw new RangeError("Cannot encode filter: end group is before the start group");
      }
      w.varint(FilterType.ABSOLUTE_RANGE).location(f.start).varint(f.endGroup);
      break;
    default:
      throw new TypeError(`Cannot encode filter: unknown type ${(f as { type: string }).type}`);
  }
}

export function readReason(r: BufferReader): string {
  return r.string(MAX_REASON_LENGTH);
}

export function writeReason(w: BufferWriter, reason: string): void {
  w.string(reason, MAX_REASON_LENGTH);
}

export function readLargest(r: BufferReader): Location | undefined {
  return r.flag("Content Exists") ? r.location() : undefined;
}

export function writeLargest(w: BufferWriter, largest: Location | undefined): void {
  if (largest) w.flag(true).location(largest);
  else w.flag(false);
}

export function readErrorFields(r: BufferReader): RequestErrorFields {
  const requestId = r.varint();
  const errorCode = r.varint();
  const reason = readReason(r);
  return { requestId, errorCode, reason };
}

export function writeErrorFields(w: BufferWriter, m: RequestErrorFields): void {
  w.varint(m.requestId).varint(m.errorCode);
  writeReason(w, m.reason);
}
