/**
 * Which draft-14 data stream a unidirectional stream is (§10.4): its first varint says
 * subgroup (0x10–0x1D) or fetch (0x05).
 *
 * @module
 */
import type { StreamReader } from "../coding/stream_reader.ts";
import { fail } from "./data_object.ts";
import { FETCH_HEADER_TYPE } from "./fetch_stream.ts";
import {
  isSubgroupHeaderType,
  readSubgroupHeaderBody,
  type SubgroupHeader,
} from "./subgroup_stream.ts";

/**
 * The header of any draft-14 unidirectional data stream.
 *
 * @example
 * ```ts
 * import { draft14 } from "@clutchcall/voice/relay";
 * type DataStreamHeader = draft14.DataStreamHeader;
 * const h: DataStreamHeader = { type: "fetch", requestId: 2 };
 * ```
 */
export type DataStreamHeader =
  | { type: "subgroup"; header: SubgroupHeader }
  | { type: "fetch"; requestId: number };

/**
 * Reads the header of a unidirectional data stream: a SUBGROUP_HEADER or a FETCH_HEADER.
 *
 * @returns The header, or `undefined` if the stream ended before any byte
 * @throws {MoqParseError} For an unknown stream type (the draft says to close the session)
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { draft14 } from "@clutchcall/voice/relay";
 * const { readDataStreamHeader, StreamReader } = draft14;
 * const s = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x05, 0x02])); c.close(); } });
 * assertEquals(await readDataStreamHeader(new StreamReader(s)), { type: "fetch", requestId: 2 });
 * ```
 */
export async function readDataStreamHeader(
  reader: StreamReader,
): Promise<DataStreamHeader | undefined> {
  const type = await reader.varintOrEnd();
  if (type === undefined) return undefined;
  if (type === FETCH_HEADER_TYPE) return { type: "fetch", requestId: await reader.varint() };
  if (!isSubgroupHeaderType(type)) {
    throw fail("data stream", `unknown stream type 0x${type.toString(16)}`);
  }
  return { type: "subgroup", header: await readSubgroupHeaderBody(reader, type) };
}
