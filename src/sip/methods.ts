/**
 * The SIP methods the gateway handles, and the `Allow` header that lists exactly them
 * (RFC 3261 §20.5). sip.js keeps the methods its cores accept in a module-level list its
 * index does not export (the same list goes into its `Allow` headers, and anything else gets
 * 405 before a dialog sees it): importing this module rewrites that list in place, for every
 * core in the process.
 *
 * - INVITE, ACK, CANCEL, BYE: calls; OPTIONS: keep-alives and probes.
 * - INFO: DTMF (`application/dtmf-relay`); UPDATE: session refresh and offers (RFC 3311).
 * - NOTIFY: the progress of our REFER (RFC 3515); without a REFER it gets 481.
 * - Not REFER: the gateway transfers on the API's request, not on a peer's (405).
 *
 * @module
 */
import { Core } from "sip.js";
import { AllowedMethods } from "sip.js/lib/core/user-agent-core/allowed-methods.js";

/** The methods handled, in `Allow` order. */
export const HANDLED_METHODS: readonly string[] = Object.freeze([
  Core.C.INVITE,
  Core.C.ACK,
  Core.C.CANCEL,
  Core.C.BYE,
  Core.C.OPTIONS,
  Core.C.INFO,
  Core.C.UPDATE,
  Core.C.NOTIFY,
]);

/**
 * The `Allow` header for our requests and responses.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { ALLOW_HEADER } from "./methods.ts";
 * assertEquals(ALLOW_HEADER, "Allow: INVITE,ACK,CANCEL,BYE,OPTIONS,INFO,UPDATE,NOTIFY");
 * ```
 */
export const ALLOW_HEADER: string = `Allow: ${HANDLED_METHODS.join(",")}`;

AllowedMethods.splice(0, AllowedMethods.length, ...HANDLED_METHODS);
