/** `npm run console:build`: regenerates src/console/assets.generated.ts from src/console/app. */
import { writeFile } from "node:fs/promises";
import { buildConsoleModule, GENERATED_PATH } from "./console-assets.js";

await writeFile(GENERATED_PATH, await buildConsoleModule());
console.log(`wrote ${GENERATED_PATH}`);
