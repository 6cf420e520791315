/**
 * The browser side of the server: the browser SDK as an ES module at `GET /sdk/browser.js`,
 * the scripts of the two pages, and the pages `GET /softphone` and `GET /calls`. The
 * scripts are bundled from `src/browser` for the browser platform (`deno bundle`) on first
 * request and kept in memory; the pages are static HTML (the token comes from `?token=` or a
 * field, never from the server). All public: a page holds no secret, every API call it makes
 * carries the user's token.
 *
 * @module
 */
import { Hono } from "hono";
import { fileURLToPath as fromFileUrl } from "node:url";

/** The bundles served under `/sdk/`, by file name → entry module under `src/browser`. */
export const BROWSER_BUNDLES: Readonly<Record<string, string>> = {
  "browser.js": "mod.ts",
  "softphone.js": "pages/softphone_page.ts",
  "calls.js": "pages/calls_page.ts",
};

const ROOT = new URL("../../", import.meta.url);

/**
 * Bundles `src/browser/<entry>` for browsers with `deno bundle --platform browser`; rejects
 * with the bundler's message when it fails.
 *
 * @example
 * ```ts ignore
 * import { bundleBrowserModule } from "./pages.ts";
 * const code = await bundleBrowserModule("mod.ts");
 * ```
 */
export async function bundleBrowserModule(entry: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "clutchcall-bundle-" });
  const out = `${dir}/out.js`;
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--config",
        fromFileUrl(new URL("deno.json", ROOT)),
        fromFileUrl(new URL(`src/browser/${entry}`, ROOT)),
        "-o",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
      cwd: fromFileUrl(ROOT),
    }).output();
    if (!result.success) {
      throw new Error(
        `Cannot bundle src/browser/${entry}: ${new TextDecoder().decode(result.stderr).trim()}`,
      );
    }
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const STYLE = `
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; max-width: 60rem; }
  button { margin: 2px; min-width: 3rem; }
  .keypad { display: grid; grid-template-columns: repeat(3, 3.5rem); gap: 2px; }
  [data-testid=status] { font-weight: bold; }
  [data-testid=message] { color: #a40; min-height: 3.6em; white-space: pre-line; }
  .call { border: 1px solid #ccc; border-radius: 6px; padding: .5rem; margin: .5rem 0; }
  meter { width: 8rem; }
  .plot-legend { font-size: 12px; }
  /* The rules of uPlot's stylesheet (dist/uPlot.min.css) that its layout needs: without them the
     canvas is laid out below the plot's box, over what follows it. */
  .uplot, .uplot * { box-sizing: border-box; }
  .uplot canvas { display: block; position: relative; width: 100%; height: 100%; }
  .u-wrap { position: relative; user-select: none; }
  .u-over, .u-under, .u-axis, .u-select { position: absolute; }
  .u-under { overflow: hidden; }
  .u-select { pointer-events: none; }
  .u-cursor-x, .u-cursor-y, .u-cursor-pt { position: absolute; left: 0; top: 0; pointer-events: none; }
  .u-cursor-pt { border-radius: 50%; }
`;

function tokenField(): string {
  return `<p data-testid="token-form"><label>Token <input data-testid="token" size="40"></label>
  <button data-testid="token-use">Use</button></p>`;
}

/** The softphone page. */
export function softphoneHtml(): string {
  const keys = [..."123456789", "star", "0", "hash"].map((k) => {
    const label = k === "star" ? "*" : k === "hash" ? "#" : k;
    return `<button data-testid="dtmf-${k}">${label}</button>`;
  }).join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ClutchCall softphone</title>
<style>${STYLE}</style></head>
<body data-phone="idle">
<h1>Softphone <small data-testid="identity"></small></h1>
${tokenField()}
<p><input data-testid="to" placeholder="client:alice or +14155550100" size="32">
<button data-testid="call">Call</button>
<button data-testid="answer">Answer</button>
<button data-testid="reject">Reject</button>
<button data-testid="hangup">Hang up</button>
<button data-testid="mute" aria-pressed="false">Mute</button></p>
<p>Status: <span data-testid="status">idle</span> <code data-testid="sid"></code></p>
<p data-testid="message" role="status" aria-live="polite"></p>
<div class="keypad">${keys}</div>
<p>mic <meter data-testid="level-in" min="0" max="0.5" value="0"></meter>
speaker <meter data-testid="level-out" min="0" max="0.5" value="0"></meter></p>
<p data-testid="stats"></p>
<div data-testid="plot"></div>
<script type="module" src="/sdk/softphone.js"></script>
</body></html>`;
}

/** The live-calls page. */
export function callsHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ClutchCall live calls</title>
<style>${STYLE}</style></head>
<body>
<h1>Live calls (<span data-testid="count">0</span>)</h1>
${tokenField()}
<p data-testid="message" role="status" aria-live="polite"></p>
<section data-testid="calls"></section>
<script type="module" src="/sdk/calls.js"></script>
</body></html>`;
}

/**
 * The routes: `GET /sdk/browser.js` (and the page scripts), `GET /softphone`, `GET /calls`.
 *
 * @example
 * ```ts ignore
 * import { createPagesApp } from "./pages.ts";
 * app.route("/", createPagesApp());
 * ```
 */
export function createPagesApp(
  { bundle = bundleBrowserModule }: { bundle?: (entry: string) => Promise<string> } = {},
): Hono {
  const app = new Hono();
  const built = new Map<string, Promise<string>>();
  app.get("/sdk/:file{[a-z]+\\.js}", async (c) => {
    const entry = BROWSER_BUNDLES[c.req.param("file")];
    if (!entry) return c.notFound();
    let code = built.get(entry);
    if (!code) {
      built.set(entry, code = bundle(entry));
      code.catch(() => built.delete(entry));
    }
    return c.body(await code, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "no-cache",
    });
  });
  app.get("/softphone", (c) => c.html(softphoneHtml()));
  app.get("/calls", (c) => c.html(callsHtml()));
  return app;
}
