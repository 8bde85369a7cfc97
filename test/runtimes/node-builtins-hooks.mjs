// Module hooks for Node (module.register): report every built-in module
// resolved while the entries load, with the module that asked for it, so
// that the runtime script can check that only the platform layer (and the
// Node builds of dependencies) touch node: modules at load time.
import { builtinModules } from "node:module";

const builtins = new Set(builtinModules);
let port;

export async function initialize(data) {
  port = data.port;
}

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("node:") || builtins.has(specifier.split("/")[0])) {
    port.postMessage({ specifier, parent: context.parentURL ?? null });
  }
  return next(specifier, context);
}
