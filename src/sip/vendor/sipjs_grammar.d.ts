/**
 * Types of the generated `sipjs_grammar.js` (sip.js's SIP grammar, bytecode decoded once;
 * see `scripts/sipjs_grammar.ts`).
 *
 * @module
 */

/** What a parse is told, and where the grammar's actions leave what they found (`data`). */
export interface GrammarOptions {
  startRule?: string;
  data?: unknown;
}

/** Parses `input` from `options.startRule`; throws a `SyntaxError` when it does not match. */
export declare function parse(input: string, options?: GrammarOptions): unknown;
