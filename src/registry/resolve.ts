/**
 * One resolver for every kind of client id: a stored client (created,
 * imported, registered) by its id, and — when Client ID Metadata Documents
 * are enabled — an https URL id whose document is fetched, checked by the
 * same rules as every other client, and stored (source "cimd") so that it
 * lists and has lifecycle data like the others.
 */
import { ClientMetadataError, OAuthClientError, ValidationError, type ValidationIssue } from "../model/errors.js";
import { changedFields, usesSecret, type OAuthClient } from "../fields.js";
import { isPlausibleClientId, MAX_CLIENT_ID_LENGTH } from "../model/ids.js";
import type { Lifecycle } from "./lifecycle.js";
import { mergeFields, newRecord, replacementFields } from "./records.js";
import type { ClientIdMetadataDocumentsOptions, ResolveOptions } from "./api.js";
import type { RegistryContext } from "./context.js";
import { createMetadataClientCap, DEFAULT_MAX_METADATA_CLIENTS, maxClientsProblem } from "./metadata-client-cap.js";
import { parseClientFields } from "../rules/field-rules.js";
import { selfRegisteredResponseTypeIssues } from "../rules/metadata.js";
import { boundedJsonCopy, clientInputBounds } from "../rules/json-bounds.js";
import { WHITESPACE_OR_CONTROL } from "../rules/text.js";
import { createClientMetadataFetcher } from "../remote/cache.js";
import { storeCall } from "../model/storage-faults.js";
import type { StoredClient } from "../model/store.js";

/** Maps a metadata document to a create input (rules/metadata.ts). */
export type MetadataMapper = (
  metadata: unknown,
  options: { source: "cimd"; clientId: string },
) => { input: unknown; issues: ValidationIssue[] };

/** Characters RFC 3986 §2.3 calls unreserved: percent-encoding them names the same URL another way. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
/** A host name as certificates and DNS know it: lower-case letters, digits and hyphens in dot-separated labels. */
const DNS_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/** The first problem of `raw` as a metadata document URL, without a suggestion. */
function urlShapeProblem(raw: string): string | null {
  if (raw.length > MAX_CLIENT_ID_LENGTH) return `must be at most ${MAX_CLIENT_ID_LENGTH} characters`;
  if (WHITESPACE_OR_CONTROL.test(raw) || /[^\x21-\x7e]/.test(raw)) return "must be ASCII without whitespace or control characters";
  if (/^https:/i.test(raw) && !raw.startsWith("https:")) return 'must use the scheme in lower case ("https:")';
  if (!raw.startsWith("https:")) return "must be an https URL";
  if (!raw.startsWith("https://")) return "must start with https:// followed by the host";
  if (raw.includes("#")) return "must not contain a fragment";
  if (raw.includes("\\")) return "must not contain a backslash";
  const authority = /^https:\/\/([^/?#]*)/.exec(raw)![1]!;
  // A URL parser skips extra slashes and reads the host from the path: one client would have two spellings.
  if (authority === "") return "must name its host right after https:// (the authority is empty)";
  if (authority.includes("@")) return "must not contain user information";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a valid URL";
  }
  if (url.username !== "" || url.password !== "") return "must not contain user information";
  if (url.hostname === "") return "must have a host";
  const host = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority)!;
  const [, hostName = "", port] = host;
  if (hostName !== hostName.toLowerCase()) return "must have a lower-case host";
  if (hostName.endsWith(".")) return "must not end its host with a dot";
  if (!hostName.startsWith("[") && !DNS_NAME.test(hostName)) {
    return "must have a host that is a DNS name (letters, digits and hyphens in dot-separated labels) or an IP address";
  }
  if (port === "") return "must not end its host with an empty port (:)";
  if (port === "443") return "must not name the default port :443";
  if (port !== undefined && String(Number(port)) !== port) return "must write its port as a number without leading zeros";
  const path = /^https:\/\/[^/?#]*([^?#]*)/.exec(raw)![1]!;
  if (path === "" || path === "/") return "must have a path (e.g. https://app.example.com/oauth/client.json)";
  // The URL parser would resolve dot segments, so a different URL would be fetched than the id names.
  if (path.split("/").some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return "must not contain . or .. path segments";
  for (const match of raw.matchAll(/%(.{0,2})/g)) {
    const hex = match[1]!;
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return 'must use "%" only to start a percent-encoding (%XX)';
    const decoded = String.fromCharCode(Number.parseInt(hex, 16));
    if (UNRESERVED.test(decoded)) return `must not percent-encode the unreserved character ${JSON.stringify(decoded)} (%${hex})`;
    if (hex !== hex.toUpperCase()) return `must write percent-encodings with upper-case hex digits (%${hex.toUpperCase()}, not %${hex})`;
  }
  if (url.href !== raw) return "must be in the canonical form a URL parser gives it";
  return null;
}

/** What a URL parser reads `raw` as, with RFC 3986 normalization (percent-encodings, trailing host dot); null if unparsable. */
function canonicalCandidate(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.hostname.endsWith(".")) url.hostname = url.hostname.slice(0, -1);
  return url.href.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const decoded = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(decoded) ? decoded : `%${hex.toUpperCase()}`;
  });
}

/**
 * Why `raw` cannot be a Client ID Metadata Document URL, or null. A client
 * id URL is compared character for character, so it must be the one
 * spelling of its URL: https (lower case) with a host right after `https://`,
 * a path, no fragment, no user information, no dot segments, ASCII, at most
 * {@link MAX_CLIENT_ID_LENGTH} characters, a lower-case DNS name or IP
 * address as host without a trailing dot, no default port `:443`, no
 * percent-encoded unreserved characters, upper-case hex in
 * percent-encodings, and exactly what `new URL(raw).href` gives. When a
 * canonical form exists the message shows it.
 *
 * @example
 * ```ts
 * import { metadataUrlProblem } from "oauth-client-registry";
 *
 * metadataUrlProblem("https://app.example.com/oauth/client.json"); // null
 * metadataUrlProblem("https://app.example.com");                   // "must have a path…"
 * metadataUrlProblem("https://App.example.com/c.json");            // '…lower-case host; the canonical form is "https://app.example.com/c.json"'
 * ```
 */
export function metadataUrlProblem(raw: string): string | null {
  const problem = urlShapeProblem(raw);
  if (problem === null) return null;
  const candidate = raw.length > 4 * MAX_CLIENT_ID_LENGTH ? null : canonicalCandidate(raw);
  return candidate !== null && candidate !== raw && urlShapeProblem(candidate) === null
    ? `${problem}; the canonical form is ${JSON.stringify(candidate)}`
    : problem;
}

/** The resolver of one registry: the client object for callers, the stored record for the registry's own operations. */
export interface Resolver {
  resolveClient(clientId: string, options?: ResolveOptions): Promise<OAuthClient | null>;
  resolveRecord(clientId: string): Promise<StoredClient | null>;
}

/**
 * Creates the resolver of a registry.
 *
 * @example
 * ```ts
 * import { metadataToClientInput } from "oauth-client-registry/registration";
 *
 * declare const context: Parameters<typeof createResolver>[0];
 * declare const lifecycle: Parameters<typeof createResolver>[1];
 * const { resolveClient } = createResolver(context, lifecycle, { accountId: "cimd" }, metadataToClientInput);
 * const client = await resolveClient("https://app.example.com/oauth/client.json");
 * ```
 */
export function createResolver(
  context: RegistryContext,
  lifecycle: Lifecycle,
  documents: ClientIdMetadataDocumentsOptions | undefined,
  mapMetadata: MetadataMapper,
): Resolver {
  const { store, limits, rules } = context;
  if (documents !== undefined) {
    context.assertAccountId(documents.accountId);
    if (documents.fetchClientMetadata !== undefined && typeof documents.fetchClientMetadata !== "function") {
      throw new TypeError("clientIdMetadataDocuments.fetchClientMetadata must be a function (url) => Promise<unknown>");
    }
    const problem = maxClientsProblem(documents.maxClients ?? DEFAULT_MAX_METADATA_CLIENTS);
    if (problem !== null) throw new TypeError(problem);
  }
  const maxClients = documents?.maxClients ?? DEFAULT_MAX_METADATA_CLIENTS;
  // The safe, caching fetcher unless the embedder brings its own.
  const fetchClientMetadata = documents === undefined ? undefined : (documents.fetchClientMetadata ?? createClientMetadataFetcher());
  const cap = documents === undefined ? undefined : createMetadataClientCap(context, documents.accountId, maxClients);
  /**
   * Per URL, the last document that passed every rule (its bounded copy)
   * and the stored record it gave: a document the fetcher hands out again
   * unchanged, for a record still at that version, gives that record again
   * without mapping and rules. Least recently used first out; per process.
   */
  const checkedDocuments = new Map<string, { document: unknown; record: StoredClient }>();

  /**
   * The document at `url`, as bounded plain JSON data: whatever a fetcher
   * returns (an injected one may return anything) is checked against the
   * JSON bounds before any mapping or rule sees it.
   */
  async function fetchDocument(url: string): Promise<unknown> {
    let fetched: unknown;
    try {
      fetched = await fetchClientMetadata!(url);
    } catch (error) {
      if (error instanceof OAuthClientError && error.status >= 500) throw error;
      throw new ClientMetadataError([{ path: "", message: `the client metadata document could not be fetched${failureReason(error)}` }]);
    }
    const bounded = boundedJsonCopy(fetched, clientInputBounds(limits));
    if ("issue" in bounded) {
      const { path, message } = bounded.issue;
      throw new ClientMetadataError([{ path, message: `the client metadata document ${path === "" ? "" : "member "}${message}` }]);
    }
    return bounded.value;
  }

  /** Refuses a new client id URL when the account holds `maxClients` metadata-document clients. */
  async function admitNewClient(url: string): Promise<void> {
    if (await cap!.reserve(url)) return;
    throw new ClientMetadataError([
      {
        path: "",
        message: `this server already holds its maximum of ${maxClients} clients from metadata documents; a new client id URL is refused until idle ones are removed`,
      },
    ]);
  }

  /** The record a metadata document describes, checked against `current` (null: not stored yet). */
  async function recordOf(url: string, document: unknown, current: StoredClient | null): Promise<StoredClient> {
    const issues: ValidationIssue[] = [];
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new ClientMetadataError([{ path: "", message: "the client metadata document must be a JSON object" }]);
    }
    const mapped = mapMetadata(document, { source: "cimd", clientId: url });
    issues.push(...mapped.issues);
    // The mapping states these rules; they are checked again here because they are what makes a document safe to trust.
    const reported = (path: string) => issues.some((issue) => issue.path === path);
    if ((document as Record<string, unknown>).client_id !== url && !reported("/client_id")) {
      issues.push({ path: "/client_id", message: `must be the document's own URL ${JSON.stringify(url)}` });
    }
    const { fields, issues: fieldIssues } = parseClientFields(mapped.input, "create", limits);
    issues.push(...fieldIssues);
    if (!reported("/response_types")) issues.push(...selfRegisteredResponseTypeIssues(fields.response_types));
    const method = fields.token_endpoint_auth_method;
    if (method !== undefined && usesSecret(method) && !reported("/token_endpoint_auth_method")) {
      issues.push({
        path: "/token_endpoint_auth_method",
        message: 'a client metadata document cannot use a shared secret: use "none" or "private_key_jwt"',
      });
    }
    const at = context.timestamp();
    try {
      if (current === null) {
        const draft = newRecord(documents!.accountId, url, fields, at);
        draft.source = "cimd";
        draft.secret_hash = null;
        return await rules.apply(draft, null, fields, issues);
      }
      const replacement = replacementFields(fields);
      return await rules.apply(mergeFields(structuredClone(current), replacement, at), current, replacement, issues);
    } catch (error) {
      if (error instanceof ValidationError) throw new ClientMetadataError(error.issues);
      throw error;
    }
  }

  /**
   * Stores the client of a document: inserted when new, updated only when
   * its fields changed. A new client takes room under the cap (`admitted`:
   * room was already reserved for it before fetching).
   */
  async function upsert(url: string, document: unknown, stored: StoredClient | null, admitted: boolean): Promise<StoredClient> {
    let reserved = admitted;
    try {
      for (let attempt = 0; attempt < context.maxWriteAttempts; attempt++) {
        const current = attempt === 0 ? stored : await storeCall(() => store.getById(url));
        const next = await recordOf(url, document, current);
        if (current === null) {
          // Deleted since it was read: storing it again is a new client like any other.
          if (!reserved) await admitNewClient(url);
          reserved = true;
          if (await storeCall(() => store.insert(next))) {
            reserved = false;
            cap!.inserted(url);
            context.emit({ type: "client.created", account_id: next.account_id, client_id: url, at: next.created_at, source: "cimd" });
            return next;
          }
          continue;
        }
        if (reserved) {
          // Another resolution stored it first: the room this one reserved is not needed.
          reserved = false;
          cap!.release(url);
        }
        const result = await storeChanges(url, current, next);
        if (result !== null) return result;
      }
    } finally {
      if (reserved) cap!.release(url);
    }
    // Writers kept racing on this client: what is stored now is as fresh as this document.
    const latest = await storeCall(() => store.getById(url));
    if (latest) return latest;
    throw new ClientMetadataError([{ path: "", message: "the client could not be stored; retry" }]);
  }

  /** Writes `next` over `current` when its fields changed; the stored record, or null when a writer raced ahead. */
  async function storeChanges(url: string, current: StoredClient, next: StoredClient): Promise<StoredClient | null> {
    const changed = changedFields(current, next);
    if (changed.length === 0) return current;
    next.version = current.version + 1;
    if (!(await storeCall(() => store.update(next, current.version)))) return null;
    context.emit({
      type: "client.updated",
      account_id: next.account_id,
      client_id: url,
      at: next.updated_at,
      changed_fields: changed,
      via: "metadata_document",
    });
    return next;
  }

  /** The stored record of any id kind (a metadata document fetched and stored first), or null. */
  async function resolveRecord(clientId: string): Promise<StoredClient | null> {
    // A URL id gets a specific error (too long, a fragment…) rather than "unknown client".
    if (documents !== undefined && typeof clientId === "string" && /^https:/i.test(clientId)) {
      const memo = checkedDocuments.get(clientId);
      // Only a URL that passed this check has a memo.
      if (memo === undefined) {
        const problem = metadataUrlProblem(clientId);
        if (problem !== null) throw new ClientMetadataError([{ path: "/client_id", message: `a client id URL ${problem}` }]);
      }
      const record = await storeCall(() => store.getById(clientId));
      // A client stored under this id by other means (an operator's own ids) is never rewritten from a document.
      if (record !== null && record.source !== "cimd") return record;
      if (memo !== undefined && record !== null && sameStoredVersion(memo.record, record)) {
        // The document the fetcher hands out now, compared with the one that
        // gave this very record: unchanged, mapping and rules would give it again.
        let fetched: unknown;
        try {
          fetched = await fetchClientMetadata!(clientId);
        } catch {
          fetched = FETCH_FAILED;
        }
        if (fetched !== FETCH_FAILED && sameJsonDocument(fetched, memo.document)) {
          checkedDocuments.delete(clientId);
          checkedDocuments.set(clientId, memo);
          return record;
        }
      }
      checkedDocuments.delete(clientId);
      // A new id is admitted before its document is fetched: past the cap, refusing costs no fetch.
      const admitted = record === null;
      if (admitted) await admitNewClient(clientId);
      let document: unknown;
      try {
        document = await fetchDocument(clientId);
      } catch (error) {
        if (admitted) cap!.release(clientId);
        throw error;
      }
      const stored = await upsert(clientId, document, record, admitted);
      if (checkedDocuments.size >= CHECKED_DOCUMENTS) checkedDocuments.delete(checkedDocuments.keys().next().value!);
      checkedDocuments.set(clientId, { document, record: stored });
      return stored;
    }
    if (!isPlausibleClientId(clientId)) return null;
    return storeCall(() => store.getById(clientId));
  }

  async function resolveClient(clientId: string, options: ResolveOptions = {}): Promise<OAuthClient | null> {
    let record = await resolveRecord(clientId);
    if (record === null) return null;
    if (options.recordUse === true) record = await lifecycle.recordUse(record, null);
    return context.toWire(record);
  }

  return { resolveClient, resolveRecord };
}

/** URLs whose last checked document is remembered by one resolver. */
const CHECKED_DOCUMENTS = 1024;
/** Stands for a fetch that failed on the fast path (the slow path fetches again and reports it). */
const FETCH_FAILED: unique symbol = Symbol("fetch failed");
/** Values compared at most by {@link sameJsonDocument}: past it, "not known equal". */
const MAX_COMPARED_VALUES = 4096;

/** The same stored record: same version of the same row (a row deleted and stored again has another created_at). */
function sameStoredVersion(a: StoredClient, b: StoredClient): boolean {
  return a.version === b.version && a.updated_at === b.updated_at && a.created_at === b.created_at && a.account_id === b.account_id;
}

/**
 * Whether `value` (what a fetcher returned: anything) equals `checked` (a
 * bounded plain JSON copy), comparing at most {@link MAX_COMPARED_VALUES}
 * values. Only plain arrays and objects, strings, finite numbers, booleans
 * and null can be equal; an accessor that throws means "not equal".
 */
function sameJsonDocument(value: unknown, checked: unknown): boolean {
  try {
    return sameJsonValue(value, checked, { left: MAX_COMPARED_VALUES });
  } catch {
    return false;
  }
}

/** One step of {@link sameJsonDocument}; `budget.left` counts the values still allowed. */
function sameJsonValue(a: unknown, b: unknown, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  if (typeof b !== "object" || b === null) return a === b;
  if (typeof a !== "object" || a === null) return false;
  if (Array.isArray(b)) {
    if (!Array.isArray(a) || a.length !== b.length) return false;
    for (let i = 0; i < b.length; i++) if (!sameJsonValue(a[i], b[i], budget)) return false;
    return true;
  }
  if (Array.isArray(a) || Object.getPrototypeOf(a) !== Object.prototype) return false;
  const keys = Object.keys(b);
  if (Object.keys(a).length !== keys.length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(a, key) || !sameJsonValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], budget)) return false;
  }
  return true;
}

/** The reason a fetcher gave for failing, clipped: an injected fetcher's error is not trusted to be small or well-behaved. */
function failureReason(error: unknown): string {
  try {
    const message = error instanceof Error ? error.message : "";
    if (typeof message !== "string" || message === "") return "";
    return `: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}`;
  } catch {
    return "";
  }
}
