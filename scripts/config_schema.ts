/**
 * `deno task config-schema`: writes the config file's JSON Schema (draft 2020-12), made from
 * the one zod schema the server checks the file with (`src/server/config_schema.ts`), so
 * editors complete and check a config file that starts with
 * `"$schema": "./config.schema.json"` (or maps it in their settings).
 *
 * `deno task config-schema` writes `config.schema.json` at the repository root (committed;
 * `tests/server/config_schema_test.ts` fails when it is stale); `-- <path>` writes elsewhere,
 * `-- -` prints it.
 *
 * @module
 */
import { configJsonSchema } from "../src/server/config_schema.ts";

/** The schema as written: two-space JSON and a final newline (what `deno fmt` keeps). */
export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  // `deno task config-schema -- <path>` passes the `--` through.
  const args = Deno.args[0] === "--" ? Deno.args.slice(1) : Deno.args;
  const target = args[0] ?? new URL("../config.schema.json", import.meta.url).pathname;
  if (target === "-") {
    await Deno.stdout.write(new TextEncoder().encode(configSchemaText()));
  } else {
    await Deno.writeTextFile(target, configSchemaText());
    console.log(`wrote ${target}`);
  }
}
