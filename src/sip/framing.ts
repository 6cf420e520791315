/**
 * SIP over a byte stream (RFC 3261 §18.3): messages are delimited by the blank line after
 * the headers and the `Content-Length` of the body, which is mandatory on streams.
 *
 * @module
 */
import { SipError } from "./error.ts";

const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);
const decoder = new TextDecoder();

/**
 * Splits a TCP byte stream into SIP messages, refusing any message (headers or body) larger
 * than `maxBytes`: {@linkcode push} then throws a {@linkcode SipError} (413 or 400), and the
 * caller closes the connection because the stream can no longer be resynchronised.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { SipStreamFramer } from "./framing.ts";
 * const framer = new SipStreamFramer(8192);
 * const bytes = new TextEncoder().encode("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n");
 * assertEquals(framer.push(bytes).length, 1);
 * ```
 */
export class SipStreamFramer {
  readonly #maxBytes: number;
  #buffer = new Uint8Array(0);

  /** Creates a framer for messages of at most `maxBytes`. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of a message begun but not complete yet (0 between messages). */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Appends bytes; returns the whole messages now complete (as raw bytes). */
  push(chunk: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    const out: Uint8Array[] = [];
    for (;;) {
      // RFC 5626 keep-alives (CRLF) between messages are skipped.
      let start = 0;
      while (
        start + 1 < this.#buffer.length && this.#buffer[start] === 13 &&
        this.#buffer[start + 1] === 10
      ) start += 2;
      if (start) this.#buffer = this.#buffer.subarray(start);
      const end = indexOf(this.#buffer, CRLFCRLF, this.#maxBytes);
      if (end < 0) {
        if (this.#buffer.length > this.#maxBytes) throw new SipError(413, "Message Too Large");
        return out;
      }
      const head = decoder.decode(this.#buffer.subarray(0, end));
      const match = /^(?:content-length|l)[ \t]*:[ \t]*(\d{1,9})[ \t]*$/im.exec(head);
      if (!match) throw new SipError(400, "Missing Content-Length");
      const length = end + 4 + Number(match[1]);
      if (length > this.#maxBytes) throw new SipError(413, "Message Too Large");
      if (this.#buffer.length < length) return out;
      out.push(this.#buffer.slice(0, length));
      this.#buffer = this.#buffer.subarray(length);
    }
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, limit: number): number {
  const last = Math.min(haystack.length, limit + needle.length) - needle.length;
  outer: for (let i = 0; i <= last; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
