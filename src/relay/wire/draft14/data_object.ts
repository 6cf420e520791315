/**
 * What every draft-14 data stream and datagram shares (§10.2): the Object Status values, the
 * object as it travels on a stream, and the implementation limits on its lengths.
 *
 * @module
 */
import { MoqParseError } from "../../error.ts";
import type { StreamReader } from "../coding/stream_reader.ts";

/** @internal An empty payload or extension block, shared. */
export const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Object Status values (draft-14 §10.2.1.1). 0x2 is unassigned.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { ObjectStatus } = draft14;
 * assertEquals(ObjectStatus.END_OF_GROUP, 3);
 * ```
 */
export const ObjectStatus = {
  NORMAL: 0x0,
  DOES_NOT_EXIST: 0x1,
  END_OF_GROUP: 0x3,
  END_OF_TRACK: 0x4,
} as const;

/**
 * Implementation limits on a data stream, beyond which a peer is treated as hostile
 * (PROTOCOL_VIOLATION). Draft-14 sets no maximum for either.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { DataLimits } = draft14;
 * assertEquals(DataLimits.MAX_PAYLOAD_LENGTH, 16777216);
 * ```
 */
export const DataLimits = {
  /** Largest object payload accepted: 16 MiB. */
  MAX_PAYLOAD_LENGTH: 16 * 1024 * 1024,
  /** Largest Extension Headers block accepted: 64 KiB. */
  MAX_EXTENSIONS_LENGTH: 64 * 1024,
} as const;

/**
 * An object read from, or written to, a subgroup stream.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { ObjectStatus } = draft14;
 * type SubgroupObject = draft14.SubgroupObject;
 * const o: SubgroupObject = { objectId: 0, status: ObjectStatus.NORMAL, payload: new Uint8Array(160) };
 * ```
 */
export interface SubgroupObject {
  /** The Object ID. */
  objectId: number;
  /** {@link ObjectStatus}; anything but NORMAL has an empty payload. */
  status: number;
  /** The object's payload bytes. */
  payload: Uint8Array;
  /** The raw Extension Headers block, absent when empty. */
  extensions?: Uint8Array;
}

/** @internal The parse error of a data decoder: `Cannot decode <what>: <reason>`. */
export function fail(what: string, reason: string): MoqParseError {
  return new MoqParseError(`Cannot decode ${what}: ${reason}`);
}

/** @internal Throws the parse error for an Object Status draft-14 does not define. */
export function checkStatus(what: string, status: number): void {
  if (status !== 0 && status !== 1 && status !== 3 && status !== 4) {
    throw fail(what, `unknown object status ${status}`);
  }
}

/** @internal Reads an object's status (for an empty payload) or payload, after its lengths. */
export async function readStatusAndPayload(
  reader: StreamReader,
  what: string,
  objectId: number,
  payloadLength: number,
  extensions: Uint8Array | undefined,
): Promise<SubgroupObject> {
  let status: number = ObjectStatus.NORMAL;
  let payload = EMPTY;
  if (payloadLength === 0) {
    status = await reader.varint();
    checkStatus(what, status);
    if (status === ObjectStatus.DOES_NOT_EXIST && extensions) {
      throw fail(what, "a Does-Not-Exist object carries extension headers");
    }
  } else {
    if (payloadLength > DataLimits.MAX_PAYLOAD_LENGTH) {
      throw fail(what, `payload of ${payloadLength} bytes exceeds the limit`);
    }
    payload = await reader.bytes(payloadLength);
  }
  const obj: SubgroupObject = { objectId, status, payload };
  if (extensions) obj.extensions = extensions;
  return obj;
}

/** @internal Checks what an object encoder is asked to write. */
export function checkObjectForEncode(
  what: string,
  obj: { status: number; payload: Uint8Array; extensions?: Uint8Array },
): void {
  if (obj.status !== ObjectStatus.NORMAL && obj.payload.length > 0) {
    throw new RangeError(`Cannot encode ${what}: only a Normal object has a payload`);
  }
  if (![0, 1, 3, 4].includes(obj.status)) {
    throw new RangeError(`Cannot encode ${what}: unknown object status ${obj.status}`);
  }
  if (obj.status === ObjectStatus.DOES_NOT_EXIST && obj.extensions?.length) {
    throw new RangeError(`Cannot encode ${what}: a Does-Not-Exist object has no extensions`);
  }
}
