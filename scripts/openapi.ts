/**
 * Writes docs/openapi.json from the zod schemas and the route table
 * (`npm run openapi`). `--check` exits 1 when the committed file is stale.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { generateOpenApiDocument } from "../src/http/openapi.js";

const target = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));
const generated = `${JSON.stringify(generateOpenApiDocument(), null, 2)}\n`;

if (process.argv.includes("--check")) {
  const committed = await readFile(target, "utf8").catch(() => "");
  if (committed !== generated) {
    console.error("docs/openapi.json is out of date; run `npm run openapi`");
    process.exit(1);
  }
  console.log("docs/openapi.json is up to date");
} else {
  await writeFile(target, generated);
  console.log(`wrote ${target}`);
}
