/**
 * The per-message codec shape shared by the draft-14 control message codec tables.
 *
 * @module
 */
import type { BufferReader, BufferWriter } from "../coding/buffer.ts";
import type { ControlMessage, ControlMessageKind } from "./message_types.ts";

/** Reads and writes the payload of one control message type. */
export interface Codec<M extends ControlMessage> {
  code: number;
  name: string;
  read(r: BufferReader): M;
  write(w: BufferWriter, m: M): void;
}

/** A codec for each of the message kinds `K`. */
export type CodecsFor<K extends ControlMessageKind> = {
  [P in K]: Codec<Extract<ControlMessage, { type: P }>>;
};

/** A codec for every control message kind. */
export type CodecTable = CodecsFor<ControlMessageKind>;
