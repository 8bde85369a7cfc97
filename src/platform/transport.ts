/**
 * What every outbound transport shares: the shape of a JSON fetch, the URL
 * rule, and how Cache-Control and Content-Type are read. The transports
 * themselves are `transport.node.ts` (pinned sockets) and `transport.web.ts`
 * (the platform's `fetch`); `#platform/transport` picks one by package
 * condition.
 */
import { RemoteFetchError } from "./errors.js";

/** Per-call options of {@link SafeFetcher.fetchJson}. */
export interface FetchJsonOptions {
  /** Body cap in bytes for this call. */
  maxBytes?: number;
  /** Accept header. Default `application/json`. */
  accept?: string;
}

/** A fetched JSON document and what its Cache-Control header said. */
export interface FetchJsonResult {
  value: unknown;
  /** The smallest valid `max-age` of Cache-Control, or null when there is none. */
  maxAgeSeconds: number | null;
  /** Cache-Control said `no-store` or `no-cache`. */
  noStore: boolean;
  status: number;
}

/** Fetches JSON from untrusted https URLs: the transport of metadata documents and key sets. */
export interface SafeFetcher {
  /** Resolves to the parsed document or rejects with a {@link RemoteFetchError}. */
  fetchJson(url: string, options?: FetchJsonOptions): Promise<FetchJsonResult>;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_BYTES = 5 * 1024;
export const DEFAULT_MAX_URL_LENGTH = 2048;
export const DEFAULT_USER_AGENT = "oauth-client-registry";

/**
 * Parses a URL a remote fetch may use: absolute https, no userinfo, no
 * fragment, no whitespace or control characters, at most `maxLength`
 * characters. Throws {@link RemoteFetchError} "invalid_url" otherwise.
 *
 * @example
 * ```ts
 * parseRemoteUrl("https://app.example/client.json").hostname; // "app.example"
 * ```
 */
export function parseRemoteUrl(input: string, maxLength = DEFAULT_MAX_URL_LENGTH): URL {
  const refuse = (why: string): never => {
    throw new RemoteFetchError("invalid_url", String(input), `Refused URL: ${why}.`);
  };
  if (typeof input !== "string") return refuse("not a string");
  if (input.length > maxLength) return refuse(`longer than ${maxLength} characters`);
  // The URL parser silently drops tabs, newlines and edge spaces; a URL that needs that is not the URL it looks like.
  if ([...input].some((char) => char <= " " || char === "\u007f")) return refuse("it contains whitespace or control characters");
  if (!URL.canParse(input)) return refuse("not an absolute URL");
  const url = new URL(input);
  if (url.protocol !== "https:") return refuse("only https URLs are fetched");
  if (input.includes("@") && (url.username !== "" || url.password !== "" || /^https:\/\/[^/?#]*@/i.test(input))) {
    return refuse("credentials in the URL are not allowed");
  }
  if (input.includes("#")) return refuse("a fragment is not allowed");
  if (url.hostname === "") return refuse("no host");
  return url;
}

/** Cache-Control directives that matter to a private cache. */
export function parseCacheControl(header: string | null | undefined): { maxAgeSeconds: number | null; noStore: boolean } {
  let maxAgeSeconds: number | null = null;
  let noStore = false;
  for (const directive of (header ?? "").split(",")) {
    const [rawName = "", ...rest] = directive.split("=");
    const name = rawName.trim().toLowerCase();
    if (name === "no-store" || name === "no-cache") noStore = true;
    if (name === "max-age") {
      const value = rest.join("=").trim().replace(/^"(.*)"$/, "$1");
      // Several max-age values: the smallest, so a confused header never lengthens caching.
      if (/^\d{1,10}$/.test(value)) maxAgeSeconds = Math.min(maxAgeSeconds ?? Infinity, Number(value));
    }
  }
  return { maxAgeSeconds, noStore };
}

/** `application/json` or `application/*+json`, parameters ignored. */
export function isJsonMediaType(header: string | null | undefined): boolean {
  if (header === undefined || header === null) return false;
  const type = (header.split(";")[0] ?? "").trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(type);
}

/** Checks a transport's numeric options once, when it is created. */
export function positiveIntegerOption(owner: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${owner}: ${name} must be a positive integer`);
}
