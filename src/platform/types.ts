/**
 * The runtime primitives the core uses, as small interfaces. Each has a
 * Node implementation (`*.node.ts`) and one for every other runtime
 * (`*.web.ts`); `#platform/crypto`, `#platform/dns` and `#platform/transport`
 * pick one by package condition ("node", else "default"), so a Worker
 * bundle never contains the Node one. Nothing here imports from above
 * `platform/`.
 */

/** Parameters of the scrypt format; log2 of N, block size r, parallelism p. */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/**
 * The hashing primitives secret storage is built on. Two implementations
 * with identical output: node:crypto (native code, scrypt on the thread pool
 * instead of the event loop) and @noble/hashes (pure JavaScript over
 * WebCrypto's random source, runs anywhere). Either verifies what the other
 * hashed.
 */
export interface SecretCrypto {
  /** Lowercase hex SHA-256 of the UTF-8 secret. */
  sha256Hex(secret: string): string;
  /** Whether SHA-256 of the secret equals the 32 bytes spelled by `digestHex`, in constant time. */
  sha256Equals(secret: string, digestHex: string): boolean;
  /** 32-byte scrypt key of the UTF-8 secret. */
  scrypt(secret: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array>;
  /** Byte comparison without an early exit. */
  equal(a: Uint8Array, b: Uint8Array): boolean;
}

/** Same shape as `resolveTxt` from `node:dns/promises`: one string[] of chunks per record. */
export type ResolveTxt = (hostname: string) => Promise<string[][]>;

/** The `fetch` a web transport calls; the platform's global one by default. */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
