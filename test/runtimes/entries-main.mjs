// Node, Bun and Deno: prints what checkEntries found as one JSON line.
import { checkEntries } from "./entries.mjs";

const result = await checkEntries();
console.log(JSON.stringify(result));
