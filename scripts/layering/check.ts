/**
 * Checks a module graph against the layering in `rules.ts`: upward or sideways imports
 * between `src/` folders, imports of `src/server` from outside it (but `main.ts`), Deno
 * API use in the `aside` folders, and import cycles.
 *
 * @module
 */
import type { KnownViolation, Layer } from "./rules.ts";

/** A module graph: each file (relative to the repository root) and the files it imports. */
export type ModuleGraph = ReadonlyMap<string, readonly string[]>;

/** One broken rule, with the offending import. */
export interface LayeringProblem {
  /** What rule is broken. */
  readonly kind: "upward_import" | "server_import" | "deno_api" | "cycle" | "stale_allowance";
  /** A one-line description naming the files. */
  readonly message: string;
}

/** The layer of a file: the longest matching prefix. */
export function layerOf(file: string, layers: readonly Layer[]): Layer | undefined {
  let best: Layer | undefined;
  for (const layer of layers) {
    const matches = layer.prefix.endsWith("/")
      ? file.startsWith(layer.prefix)
      : file === layer.prefix;
    if (matches && (!best || layer.prefix.length > best.prefix.length)) best = layer;
  }
  return best;
}

function describe(layer: Layer): string {
  return `${layer.prefix} (floor ${layer.floor})`;
}

/** Whether a module of `from` may import a module of `to`. */
function allowed(from: Layer, to: Layer): boolean {
  if (from === to) return true;
  if (to.prefix === "src/server/") return false;
  if (from.floor === "entry") return true;
  if (from.stacksOn?.includes(to.prefix)) return true;
  if (to.floor === "aside" || to.floor === "entry") return false;
  if (from.floor === "aside") return true;
  return to.floor < from.floor;
}

/**
 * Every import in `graph` that breaks the layering, every cycle, and every entry of `known`
 * that no longer matches an import (so the allow-list only shrinks).
 *
 * @example
 * ```ts
 * import { checkLayering } from "./check.ts";
 * import { LAYERS } from "./rules.ts";
 * const graph = new Map([["src/codecs/g711.ts", ["src/server/server.ts"]]]);
 * const problems = checkLayering(graph, LAYERS, []);
 * if (problems[0]?.kind !== "server_import") throw new Error("expected a server import");
 * ```
 */
export function checkLayering(
  graph: ModuleGraph,
  layers: readonly Layer[],
  known: readonly KnownViolation[],
): LayeringProblem[] {
  const problems: LayeringProblem[] = [];
  const used = new Set<KnownViolation>();
  const isKnown = (from: string, to: string): boolean => {
    const entry = known.find((k) => k.from === from && k.to === to);
    if (entry) used.add(entry);
    return entry !== undefined;
  };
  for (const [from, imports] of graph) {
    const fromLayer = layerOf(from, layers);
    if (!fromLayer) continue;
    for (const to of imports) {
      const toLayer = layerOf(to, layers);
      if (!toLayer || allowed(fromLayer, toLayer)) continue;
      if (isKnown(from, to)) continue;
      if (toLayer.prefix === "src/server/") {
        problems.push({
          kind: "server_import",
          message: `${from} imports ${to}: nothing but src/server/main.ts imports src/server`,
        });
      } else {
        problems.push({
          kind: "upward_import",
          message: `${from} imports ${to}: ${describe(fromLayer)} may import only lower floors, ` +
            `not ${describe(toLayer)}`,
        });
      }
    }
  }
  for (const cycle of cyclesOf(graph)) {
    const [from, to] = [cycle[0], cycle[1] ?? cycle[0]];
    if (isKnown(from, to)) continue;
    problems.push({ kind: "cycle", message: `Import cycle: ${[...cycle, cycle[0]].join(" -> ")}` });
  }
  for (const entry of known) {
    if (!used.has(entry)) {
      problems.push({
        kind: "stale_allowance",
        message: `${entry.from} no longer imports ${entry.to} against the layering: ` +
          `remove its KNOWN_VIOLATIONS entry (${entry.removedBy})`,
      });
    }
  }
  return problems;
}

/**
 * Files of the `aside` folders that use the Deno namespace (they must run without it).
 *
 * @param sources Each file and its text
 */
export function denoApiUses(
  sources: ReadonlyMap<string, string>,
  layers: readonly Layer[],
): LayeringProblem[] {
  const problems: LayeringProblem[] = [];
  for (const [file, text] of sources) {
    if (layerOf(file, layers)?.floor !== "aside" || file === "mod.ts") continue;
    text.split("\n").forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      if (/^\s*\*/.test(code)) return; // a JSDoc line
      if (/\bDeno\.[A-Za-z]/.test(code)) {
        problems.push({
          kind: "deno_api",
          message: `${file}:${i + 1} uses the Deno API: ${line.trim()}`,
        });
      }
    });
  }
  return problems;
}

/**
 * The import cycles of a graph: one list of files per strongly connected component of more
 * than one file (or a file importing itself), each starting at its smallest name and
 * following imports.
 *
 * @example
 * ```ts
 * import { cyclesOf } from "./check.ts";
 * const cycles = cyclesOf(new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]], ["c.ts", ["a.ts"]]]));
 * if (JSON.stringify(cycles) !== '[["a.ts","b.ts"]]') throw new Error("expected one cycle");
 * ```
 */
export function cyclesOf(graph: ModuleGraph): string[][] {
  // Tarjan's strongly connected components, iteratively (graphs here are small, but a
  // recursion per import would still be one stack frame per file on a long chain).
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const edges = (file: string) => (graph.get(file) ?? []).filter((to) => graph.has(to));
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { file: string; next: number }[] = [{ file: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const targets = edges(frame.file);
      if (frame.next < targets.length) {
        const to = targets[frame.next++];
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ file: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.file, Math.min(low.get(frame.file)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.file)!));
      }
      if (low.get(frame.file) === index.get(frame.file)) {
        const component: string[] = [];
        let file: string;
        do {
          file = stack.pop()!;
          onStack.delete(file);
          component.push(file);
        } while (file !== frame.file);
        const selfLoop = component.length === 1 && edges(component[0]).includes(component[0]);
        if (component.length > 1 || selfLoop) components.push(orderCycle(component, edges));
      }
    }
  }
  return components.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Orders a component as a path along imports from its smallest file, as far as it goes. */
function orderCycle(component: string[], edges: (file: string) => string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const path = [start];
  const seen = new Set(path);
  for (;;) {
    const next = edges(path[path.length - 1]).find((to) => members.has(to) && !seen.has(to));
    if (!next) break;
    path.push(next);
    seen.add(next);
  }
  for (const file of [...component].sort()) if (!seen.has(file)) path.push(file);
  return path;
}
