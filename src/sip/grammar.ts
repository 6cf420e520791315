/**
 * sip.js's SIP grammar without its per-parse cost: {@linkcode useHoistedGrammar} points
 * sip.js's `Grammar.parse` (what its parser calls for every header and URI) at the same
 * generated grammar with its bytecode table decoded once (`vendor/sipjs_grammar.js`, made by
 * `scripts/sipjs_grammar.ts`; why there). Results are the same objects of the same classes.
 *
 * @module
 */
import { Grammar } from "sip.js";
import { parse as hoistedParse } from "./vendor/sipjs_grammar.js";

let installed = false;

/**
 * sip.js's `Grammar.parse`, on the hoisted grammar: the parse result, or -1 when `input` does
 * not match `startRule` (sip.js's convention).
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { parseSipGrammar } from "./grammar.ts";
 * const uri = parseSipGrammar("sip:+14155550100@192.0.2.1:5060", "SIP_URI") as { user: string };
 * assertEquals(uri.user, "+14155550100");
 * assertEquals(parseSipGrammar("not a uri", "SIP_URI"), -1);
 * ```
 */
export function parseSipGrammar(input: string, startRule: string): unknown {
  const options: { startRule: string; data?: unknown } = { startRule };
  try {
    hoistedParse(input, options);
  } catch {
    // sip.js's own convention, kept exactly: any failure of the grammar (its SyntaxError, or
    // an action throwing on odd input) means "does not parse" (-1), and the caller rejects.
    options.data = -1;
  }
  return options.data;
}

/**
 * Makes sip.js parse with {@linkcode parseSipGrammar} (process-wide, idempotent). The gateway's
 * endpoint calls it when it starts.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Grammar } from "sip.js";
 * import { parseSipGrammar, useHoistedGrammar } from "./grammar.ts";
 * useHoistedGrammar();
 * assertEquals(Grammar.parse, parseSipGrammar);
 * ```
 */
export function useHoistedGrammar(): void {
  if (installed) return;
  installed = true;
  (Grammar as { parse: typeof parseSipGrammar }).parse = parseSipGrammar;
}
