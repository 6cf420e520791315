/**
 * The slice of the DOM the two pages use, typed here for the reason given in
 * `../web_media_types.ts` (one type-checked program with Deno's library, no `lib.dom`).
 *
 * @module
 */

/** An element (the members the pages use). */
export interface El {
  textContent: string | null;
  innerHTML: string;
  className: string;
  value: string | number;
  readonly dataset: Record<string, string | undefined>;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): El | null;
  append(child: El): void;
  remove(): void;
}

interface Doc {
  readonly body: El;
  querySelector(selector: string): El | null;
  createElement(tag: string): El;
}

/** The page's document. */
export const document: Doc = (globalThis as unknown as { document: Doc }).document;

/** The element with `data-testid="<id>"`; throws when the page lacks it. */
export function byTestId(id: string, root: Pick<El, "querySelector"> = document): El {
  const found = root.querySelector(`[data-testid="${id}"]`);
  if (!found) throw new TypeError(`Cannot find element: no data-testid "${id}" on the page`);
  return found;
}
