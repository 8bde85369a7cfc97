/** Where the runtimes are installed: $RUNTIMES_DIR, default /tmp/oauth-registry-runtimes. */
export declare const runtimesDir: string;
/** Installs npm `packages` into their own prefix unless `probe` exists under its node_modules; returns that node_modules. */
export declare function installOnce(prefix: string, packages: readonly string[], probe: string, log?: (line: string) => void): string;
