// Node: checkEntries, with the built-in modules resolved while the entries
// load (and who asked for each), as one JSON line.
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";

const { port1, port2 } = new MessageChannel();
const builtins = [];
port1.on("message", (message) => builtins.push(message));
register(new URL("./node-builtins-hooks.mjs", import.meta.url), { data: { port: port2 }, transferList: [port2] });
const { checkEntries } = await import("./entries.mjs");
const result = await checkEntries();
// Messages from the hooks thread arrive asynchronously.
await new Promise((resolve) => setTimeout(resolve, 100));
port1.close();
console.log(JSON.stringify({ ...result, builtins }));
