/**
 * A call's name: the `sid` grammar and the MoQT namespace `["voice", sid]` it names. Names
 * only, importing nothing, so that auth (which confines tokens to sids) and every voice leg
 * read one definition.
 *
 * @module
 */

const SID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** A validated call id. */
export type Sid = string & { readonly __brand: "Sid" };

/**
 * Validates a call id (1–64 of `A-Z a-z 0-9 _ -`, not starting with `_`/`-`).
 *
 * @example
 * ```ts
 * import { parseSid } from "@clutchcall/voice/voice";
 * const sid = parseSid("CA0123");
 * ```
 */
export function parseSid(value: string): Sid {
  if (!SID.test(value)) throw new TypeError(`Invalid call sid: "${value}"`);
  return value as Sid;
}

/**
 * The namespace tuple of a call.
 *
 * @example
 * ```ts
 * import { callNamespace, parseSid } from "@clutchcall/voice/voice";
 * callNamespace(parseSid("CA1")); // ["voice", "CA1"]
 * ```
 */
export function callNamespace(sid: Sid | string): readonly string[] {
  return ["voice", sid];
}

/** The sid of a voice namespace, or undefined when `namespace` is not one. */
export function sidOf(namespace: readonly string[]): Sid | undefined {
  return namespace.length === 2 && namespace[0] === "voice" && SID.test(namespace[1])
    ? namespace[1] as Sid
    : undefined;
}
