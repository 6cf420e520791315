/**
 * How both pages get their token: from the URL (`?token=`) when it came with one, else from
 * the token field the operator pastes into.
 *
 * @module
 */
import { byTestId as $ } from "./dom.ts";

/**
 * Calls `start` with the URL's `token` (removing the form that asks for one), or with the
 * first non-empty token pasted into the form (`say` prompts for it meanwhile).
 */
export function startWithToken(
  params: URLSearchParams,
  say: (text: string) => void,
  start: (token: string) => unknown,
): void {
  const token = params.get("token");
  if (token) {
    // The token came with the URL: the field asking for one has nothing to do.
    $("token-form").remove();
    start(token);
    return;
  }
  say("Paste a token to start");
  $("token-use").addEventListener("click", () => {
    const value = String($("token").value).trim();
    if (value) start(value);
  }, { once: true });
}
