/**
 * A rate limiter whose budget lives in the store (through
 * `ClientStore.claimOnce`), so that every process on one database shares
 * it: N instances behind a load balancer allow `limit` requests per window
 * per caller in total, not N times that.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { storeCall } from "../model/storage-faults.js";
import { MAX_CLAIM_KEY_LENGTH, type ClientStore } from "../model/store.js";

/** Options of {@link createStoreRateLimiter}. */
export interface StoreRateLimiterOptions {
  /** Requests one bucket may make per window (a positive integer). */
  limit: number;
  /** Length of the sliding window, in seconds (a positive integer). */
  windowSeconds: number;
  /**
   * The bucket a request counts toward, e.g. its client address through
   * {@link addressBucket}; `null` leaves the request unlimited. A `Request`
   * carries no portable client address, so the embedder says where it is
   * (a socket, a trusted proxy header, `CF-Connecting-IP` on Workers).
   */
  bucket: (request: Request) => string | null | Promise<string | null>;
  /** Keeps limiters on one store apart (letters, digits, `_ . : -`). Default `"registration"`. */
  name?: string;
  /** Clock, injectable for tests (default `() => new Date()`). */
  now?: () => Date;
}

const NAME = /^[A-Za-z0-9_.:-]{1,48}$/;

/**
 * A sliding-window rate limiter over a store's `claimOnce`, in the shape of
 * the registration handler's `rateLimit` hook: resolves `true` while the
 * request's bucket made fewer than `limit` admitted requests in the last
 * `windowSeconds`, `false` past it. Each admitted request is one claim
 * that expires after the window (so a bucket holds at most `limit` rows,
 * and refused requests hold none); the count is exact across processes.
 * A store that cannot be reached rejects with `StorageUnavailableError`
 * (the handler answers 503): requests are never let through unlimited.
 *
 * @example
 * ```ts
 * import { addressBucket, createRegistrationHandler, createStoreRateLimiter } from "oauth-client-registry/registration";
 * import { createSqliteStore } from "oauth-client-registry/sqlite";
 *
 * const store = createSqliteStore("./clients.sqlite");
 * const register = createRegistrationHandler(registry, {
 *   accountId: "registered",
 *   rateLimit: createStoreRateLimiter(store, {
 *     limit: 20,
 *     windowSeconds: 3600,
 *     bucket: (request) => addressBucket(request.headers.get("cf-connecting-ip")),
 *   }),
 * });
 * ```
 */
export function createStoreRateLimiter(store: ClientStore, options: StoreRateLimiterOptions): (request: Request) => Promise<boolean> {
  const claimOnce = store.claimOnce;
  if (typeof claimOnce !== "function") throw new TypeError("createStoreRateLimiter: the store has no claimOnce");
  const { limit, windowSeconds, bucket } = options;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError("createStoreRateLimiter: limit must be a positive integer");
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds < 1) throw new TypeError("createStoreRateLimiter: windowSeconds must be a positive integer");
  if (typeof bucket !== "function") throw new TypeError("createStoreRateLimiter: bucket must be a function (request) => string | null");
  const name = options.name ?? "registration";
  if (!NAME.test(name)) throw new TypeError(`createStoreRateLimiter: name must match ${NAME}`);
  const now = options.now ?? (() => new Date());
  const scope = `rate:${name}`;
  const windowMs = windowSeconds * 1000;
  return async (request) => {
    const raw = await bucket(request);
    if (raw === null) return true;
    // A long bucket name is hashed rather than cut, so two never merge.
    const owner = raw.length === 0 || raw.length > MAX_CLAIM_KEY_LENGTH ? `sha256:${bytesToHex(sha256(utf8ToBytes(raw)))}` : raw;
    const nowMs = now().getTime();
    const result = await storeCall(() =>
      claimOnce.call(store, { scope, key: crypto.randomUUID(), expiresAtMs: nowMs + windowMs, nowMs, owner, maxPerOwner: limit }),
    );
    return result !== "over_budget";
  };
}

/**
 * The rate-limit bucket of a client address: an IPv4 address as it is, an
 * IPv6 address by its /64 prefix (what one host or one customer is given,
 * so that walking the addresses of a /64 does not multiply the budget), an
 * IPv4-mapped IPv6 address as its IPv4 address; anything else (or nothing)
 * `null`: unlimited is the caller's choice, so map `null` to a shared
 * bucket such as `"unknown"` if requests without an address must count.
 *
 * @example
 * ```ts
 * addressBucket("203.0.113.7"); // "203.0.113.7"
 * addressBucket("2001:db8:1:2:aaaa::1"); // "2001:db8:1:2::/64"
 * addressBucket("::ffff:203.0.113.7"); // "203.0.113.7"
 * ```
 */
export function addressBucket(address: string | null | undefined): string | null {
  if (typeof address !== "string") return null;
  const text = address.trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return text;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(text);
  if (mapped) return mapped[1]!;
  const groups = expandIpv6(text);
  if (groups === null) return null;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address in text form, or null. */
function expandIpv6(text: string): number[] | null {
  if (!/^[0-9a-f:]+$/i.test(text) || text.length > 39) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (all.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return null;
  return all.map((group) => parseInt(group, 16));
}
