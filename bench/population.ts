/**
 * The clients every store is filled with: the same records, in the same
 * order, for every store of a given size, so that sizes and stores compare.
 */
import { createHash, randomBytes } from "node:crypto";
import { makeStoredClient } from "../src/testing/records.js";
import type { ListPosition, StoredClient } from "../src/model/store.js";

/** The account most clients belong to; every measured call uses it. */
export const ACCOUNT = "acct_bench";
/** Page size of the list rows. */
export const PAGE = 50;
/** The secret every stored client authenticates with. */
export const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/** Clients of one size, and the subsets the operations draw from. */
export interface Population {
  size: number;
  /** Every record, in insertion order. */
  records: StoredClient[];
  /** The account's records in list order. */
  listed: StoredClient[];
  /** Clients that only ever get read (get, authenticate): their secret never changes. */
  readPool: StoredClient[];
  /**
   * Clients the authentication rows use (512 of the read pool): each is
   * authenticated once before measuring, so the rows show the steady state
   * of a token endpoint — a client's first authentication in each
   * `lastUsedWriteIntervalMs` (an hour) also writes its last-use time.
   */
  authPool: StoredClient[];
  /** Clients that updates, rotations and deletes use; each batch puts them back. */
  writePool: StoredClient[];
  /** The position after which the account's last page of {@link PAGE} starts. */
  lastPageAfter: ListPosition;
}

/**
 * SHA-256 of the secret in the stored `sha256$<hex>` form, computed by the benchmark itself.
 *
 * @example
 * sha256Stored("s3cret"); // "sha256$…" (64 hex digits)
 */
export function sha256Stored(secret: string): string {
  return `sha256$${createHash("sha256").update(secret).digest("hex")}`;
}

/**
 * 32 lowercase hex characters, as client ids are.
 *
 * @example
 * randomClientId(); // "9f86d081884c7d659a2feaa0c55ad015"
 */
export function randomClientId(): string {
  return randomBytes(16).toString("hex");
}

/**
 * The list order of stored records: created_at, then client_id.
 *
 * @example
 * records.sort(compareListOrder);
 */
export function compareListOrder(a: Pick<StoredClient, "created_at" | "client_id">, b: Pick<StoredClient, "created_at" | "client_id">): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0;
}

/**
 * `size` clients: 90 % in {@link ACCOUNT}, the rest spread over seven other
 * accounts, three per creation second, each with a secret hash of
 * {@link SECRET} and the fields a typical confidential client has.
 *
 * @example
 * const { listed, readPool } = makePopulation(1000);
 */
export function makePopulation(size: number): Population {
  const base = Date.parse("2025-01-01T00:00:00.000Z");
  const secretHash = sha256Stored(SECRET);
  const records = Array.from({ length: size }, (_, i) => {
    const at = new Date(base + Math.floor(i / 3) * 1000).toISOString();
    return makeStoredClient({
      account_id: i % 10 === 9 ? `acct_other_${i % 7}` : ACCOUNT,
      client_id: randomClientId(),
      client_name: `Bench app ${i}`,
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: [`https://app-${i}.example.com/callback`, `https://app-${i}.example.com/callback/alt`],
      scopes: ["profile", "email", "offline_access"],
      allowed_cors_origins: [`https://app-${i}.example.com`],
      secret_hash: secretHash,
      created_at: at,
      updated_at: at,
    });
  });
  const listed = records.filter((r) => r.account_id === ACCOUNT).sort(compareListOrder);
  const last = listed[listed.length - PAGE - 1]!;
  return {
    size,
    records,
    listed,
    readPool: listed.filter((_, i) => i % 16 !== 0),
    authPool: spaced(listed.filter((_, i) => i % 16 !== 0), 512),
    writePool: listed.filter((_, i) => i % 16 === 0),
    lastPageAfter: { created_at: last.created_at, client_id: last.client_id },
  };
}

/** Up to `count` entries of `list`, evenly spaced. */
function spaced<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  return Array.from({ length: count }, (_, i) => list[Math.floor((i * list.length) / count)]!);
}
