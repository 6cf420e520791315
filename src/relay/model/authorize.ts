/**
 * What a session's peer may do, in protocol-neutral terms: every dialect asks the same
 * {@linkcode Authorize} hook before it lets a peer publish or subscribe in a namespace.
 *
 * @module
 */

/** What a peer asks to do with a namespace; the `authorize` hook decides. */
export type Operation = "publish" | "subscribe";

/**
 * Decides whether a session's peer may `operation` in `namespace`. Returning false refuses
 * the request (draft-14 answers with its UNAUTHORIZED code).
 *
 * @example
 * ```ts
 * import { assert } from "@std/assert";
 * import type { Authorize } from "@clutchcall/voice/relay";
 *
 * const onlyVoice: Authorize = (_operation, namespace) => namespace[0] === "voice";
 * assert(onlyVoice("subscribe", ["voice", "CA1"]));
 * assert(!onlyVoice("publish", ["video", "x"]));
 *
 * const alice: Authorize = Object.assign(onlyVoice, { identity: "client:alice" });
 * assert(alice.identity === "client:alice");
 * ```
 */
export type Authorize = ((operation: Operation, namespace: readonly string[]) => boolean) & {
  /**
   * Who the peer is (its token's subject), when known. A peer's publication can be taken
   * over only by a peer of the same identity (see `PublishOptions.owner`).
   */
  readonly identity?: string;
};

/**
 * What a peer presented to prove who it is, once its dialect has read its setup: the
 * dialect decodes its own wire form (draft-14's AUTHORIZATION_TOKEN setup parameter), so an
 * authorizer never reads a dialect's parameters.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import type { ConnectionCredentials } from "@clutchcall/voice/relay";
 *
 * const credentials: ConnectionCredentials = { token: "abc.def.ghi" };
 * assertEquals(credentials.token, "abc.def.ghi");
 * ```
 */
export interface ConnectionCredentials {
  /** The token the peer sent in its setup, if any (a WebTransport peer may use its URL). */
  readonly token?: string;
}
