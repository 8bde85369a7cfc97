/**
 * TXT lookups over DNS over HTTPS (RFC 8484): a DNS wire-format query sent
 * with GET `?dns=<base64url>` to a resolver URL through `fetch`, so runtimes
 * without node:dns (workerd, browsers) can verify client_uri ownership.
 */
import type { FetchFunction, ResolveTxt } from "./types.js";

/** The resolver asked when none is configured: Cloudflare's public DoH endpoint. */
export const DEFAULT_DOH_URL = "https://cloudflare-dns.com/dns-query";

/** Options of {@link createDohResolveTxt}. */
export interface DohResolveTxtOptions {
  /** The resolver's RFC 8484 endpoint. Default {@link DEFAULT_DOH_URL}. */
  url?: string;
  /** Total time for one lookup. Default 5000 ms. */
  timeoutMs?: number;
  /** The `fetch` to send the query with. Default the platform's. */
  fetch?: FetchFunction;
}

/** Why a DNS-over-HTTPS lookup failed; `code` mirrors node:dns where one fits (ENOTFOUND, ENODATA). */
export class DohLookupError extends Error {
  readonly code: "ENOTFOUND" | "ENODATA" | "ESERVFAIL" | "EBADRESP" | "ETIMEOUT" | "ECONNREFUSED";
  constructor(code: DohLookupError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DohLookupError";
    this.code = code;
  }
}

const TYPE_TXT = 16;
const CLASS_IN = 1;
/** DNS messages over DoH are at most 65535 bytes (RFC 8484 §6). */
const MAX_MESSAGE_BYTES = 65_535;

/** The wire-format query for the TXT records of `hostname` (id 0, recursion desired). */
export function encodeTxtQuery(hostname: string): Uint8Array {
  const labels = hostname.replace(/\.$/, "").split(".");
  const encoder = new TextEncoder();
  const parts: number[] = [0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of labels) {
    const bytes = encoder.encode(label);
    if (bytes.length === 0 || bytes.length > 63) throw new DohLookupError("ENOTFOUND", `not a DNS name: ${hostname}`);
    parts.push(bytes.length, ...bytes);
  }
  parts.push(0, TYPE_TXT >> 8, TYPE_TXT & 0xff, CLASS_IN >> 8, CLASS_IN & 0xff);
  if (parts.length - 12 > 255 + 4) throw new DohLookupError("ENOTFOUND", `not a DNS name: ${hostname}`);
  return Uint8Array.from(parts);
}

/** Skips a possibly compressed name; returns the offset after it. */
function skipName(message: Uint8Array, offset: number): number {
  let at = offset;
  for (let steps = 0; steps < 128; steps++) {
    const length = message[at];
    if (length === undefined) break;
    if (length === 0) return at + 1;
    // A compression pointer ends the name in this position (RFC 1035 §4.1.4).
    if ((length & 0xc0) === 0xc0) return at + 2;
    at += 1 + length;
  }
  throw new DohLookupError("EBADRESP", "malformed DNS name in the answer");
}

/**
 * The TXT records of a wire-format answer, each as its character-strings
 * (node:dns's shape). Answers of other types (a CNAME chain) are skipped.
 */
export function decodeTxtAnswer(message: Uint8Array): string[][] {
  const bad = (why: string): never => {
    throw new DohLookupError("EBADRESP", `malformed DNS answer: ${why}`);
  };
  if (message.length < 12) bad("shorter than a header");
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const rcode = view.getUint8(3) & 0x0f;
  if (rcode === 3) throw new DohLookupError("ENOTFOUND", "no such domain");
  if (rcode !== 0) throw new DohLookupError("ESERVFAIL", `the resolver answered rcode ${rcode}`);
  const questions = view.getUint16(4);
  const answers = view.getUint16(6);
  let at = 12;
  for (let i = 0; i < questions; i++) at = skipName(message, at) + 4;
  const decoder = new TextDecoder("utf-8", { fatal: false });
  const records: string[][] = [];
  for (let i = 0; i < answers; i++) {
    at = skipName(message, at);
    if (at + 10 > message.length) bad("truncated record");
    const type = view.getUint16(at);
    const length = view.getUint16(at + 8);
    const start = at + 10;
    const end = start + length;
    if (end > message.length) bad("truncated record data");
    if (type === TYPE_TXT) {
      const chunks: string[] = [];
      for (let p = start; p < end; ) {
        const size = message[p]!;
        if (p + 1 + size > end) bad("truncated character-string");
        chunks.push(decoder.decode(message.subarray(p + 1, p + 1 + size)));
        p += 1 + size;
      }
      records.push(chunks);
    }
    at = end;
  }
  if (records.length === 0) throw new DohLookupError("ENODATA", "no TXT records");
  return records;
}

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A TXT resolver (the shape of node:dns's `resolveTxt`) that asks a DNS over
 * HTTPS resolver. The default of client_uri verification where node:dns is
 * absent; usable anywhere as the registry's `resolveTxt` option.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 *
 * const resolveTxt = createDohResolveTxt({ url: "https://dns.google/dns-query" });
 * const verifying = createOAuthClientRegistry(store, { resolveTxt });
 * ```
 */
export function createDohResolveTxt(options: DohResolveTxtOptions = {}): ResolveTxt {
  const url = new URL(options.url ?? DEFAULT_DOH_URL);
  const timeoutMs = options.timeoutMs ?? 5000;
  const fetchOnce = options.fetch;
  return async (hostname) => {
    const query = new URL(url);
    query.searchParams.set("dns", base64url(encodeTxtQuery(hostname)));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const send = fetchOnce ?? globalThis.fetch;
      let response: Response;
      try {
        response = await send(query, { headers: { accept: "application/dns-message" }, signal: controller.signal, redirect: "error" });
      } catch (error) {
        const code = controller.signal.aborted ? "ETIMEOUT" : "ECONNREFUSED";
        throw new DohLookupError(code, `DNS over HTTPS to ${url.host} failed`, { cause: error });
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new DohLookupError("ESERVFAIL", `the resolver answered HTTP ${response.status}`);
      }
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.length > MAX_MESSAGE_BYTES) throw new DohLookupError("EBADRESP", "answer larger than a DNS message");
      return decodeTxtAnswer(body);
    } finally {
      clearTimeout(timer);
    }
  };
}
