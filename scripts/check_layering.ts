/**
 * `deno task check` step: reads the real module graph of `src/` and `mod.ts` with
 * `deno info --json` and fails, naming each offending import, when it breaks the layering
 * written down in `scripts/layering/rules.ts` or holds an import cycle.
 *
 * Run: `deno run --allow-read --allow-write --allow-run --allow-env scripts/check_layering.ts`
 *
 * @module
 */
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl, pathToFileURL } from "node:url";
import { checkLayering, denoApiUses, type ModuleGraph } from "./layering/check.ts";
import { KNOWN_VIOLATIONS, LAYERS } from "./layering/rules.ts";

const ROOT = fromFileUrl(new URL("../", import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await sourceFiles(path));
    else if (/\.(ts|tsx|js|mjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) {
      out.push(path);
    }
  }
  return out;
}

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    type?: { specifier?: string };
  }[];
}

/** The graph of every source file, from one `deno info --json` over a root importing them all. */
async function moduleGraph(files: string[]): Promise<ModuleGraph> {
  const dir = await Deno.makeTempDir({ prefix: "layering_" });
  try {
    const root = `${dir}/all.ts`;
    await Deno.writeTextFile(
      root,
      files.map((f) => `import ${JSON.stringify(pathToFileURL(f).href)};`).join("\n") + "\n",
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", "--config", `${ROOT}deno.json`, root],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
    const local = (specifier: string | undefined): string | undefined => {
      if (!specifier?.startsWith("file://")) return undefined;
      const path = relative(ROOT, fromFileUrl(specifier));
      return path.startsWith("..") ? undefined : path;
    };
    const graph = new Map<string, string[]>();
    for (const module of info.modules) {
      const from = local(module.specifier);
      if (!from) continue;
      const to = new Set<string>();
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          const file = local(target);
          if (file) to.add(file);
        }
      }
      graph.set(from, [...to].sort());
    }
    return graph;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const files = [...await sourceFiles(`${ROOT}src`), `${ROOT}mod.ts`];
  const graph = await moduleGraph(files);
  const sources = new Map<string, string>();
  for (const file of files) sources.set(relative(ROOT, file), await Deno.readTextFile(file));
  const problems = [
    ...checkLayering(graph, LAYERS, KNOWN_VIOLATIONS),
    ...denoApiUses(sources, LAYERS),
  ];
  for (const problem of problems) console.error(`layering: ${problem.message}`);
  if (problems.length > 0) {
    console.error(
      `layering: ${problems.length} problem(s); the rules are in scripts/layering/rules.ts`,
    );
    Deno.exit(1);
  }
  console.log(`layering: ${graph.size} modules, no upward import, no cycle`);
}
