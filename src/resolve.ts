/**
 * One resolver for every kind of client id: a stored client (created,
 * imported, registered) by its id, and — when Client ID Metadata Documents
 * are enabled — an https URL id whose document is fetched, checked by the
 * same rules as every other client, and stored (source "cimd") so that it
 * lists and has lifecycle data like the others.
 */
import { ClientMetadataError, OAuthClientError, ValidationError, type ValidationIssue } from "./errors.js";
import { changedFields, usesSecret, type OAuthClient } from "./fields.js";
import { isPlausibleClientId, MAX_CLIENT_ID_LENGTH } from "./ids.js";
import type { Lifecycle } from "./lifecycle.js";
import { mergeFields, newRecord, replacementFields } from "./records.js";
import type { ClientIdMetadataDocumentsOptions, ResolveOptions } from "./registry-api.js";
import type { RegistryContext } from "./registry-context.js";
import { parseClientFields } from "./rules/fields.js";
import { WHITESPACE_OR_CONTROL } from "./rules/text.js";
import { createClientMetadataFetcher } from "./remote/cache.js";
import { storeCall } from "./storage-faults.js";
import type { StoredClient } from "./store.js";

/** Maps a metadata document to a create input (rules/metadata.ts). */
export type MetadataMapper = (
  metadata: unknown,
  options: { source: "cimd"; clientId: string },
) => { input: unknown; issues: ValidationIssue[] };

/**
 * Why `raw` cannot be a Client ID Metadata Document URL, or null: https,
 * a path, no fragment, no user information, no dot segments, ASCII, at
 * most {@link MAX_CLIENT_ID_LENGTH} characters.
 *
 * @example
 * metadataUrlProblem("https://app.example.com/oauth/client.json"); // null
 * metadataUrlProblem("https://app.example.com");                   // "must have a path…"
 */
export function metadataUrlProblem(raw: string): string | null {
  if (raw.length > MAX_CLIENT_ID_LENGTH) return `must be at most ${MAX_CLIENT_ID_LENGTH} characters`;
  if (WHITESPACE_OR_CONTROL.test(raw) || /[^\x21-\x7e]/.test(raw)) return "must be ASCII without whitespace or control characters";
  if (!/^https:\/\//.test(raw)) return "must be an https URL";
  if (raw.includes("#")) return "must not contain a fragment";
  if (raw.includes("\\")) return "must not contain a backslash";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a valid URL";
  }
  if (url.username !== "" || url.password !== "" || /^https:\/\/[^/?#]*@/.test(raw)) return "must not contain user information";
  if (url.hostname === "") return "must have a host";
  const path = /^https:\/\/[^/?#]*([^?#]*)/.exec(raw)![1]!;
  if (path === "" || path === "/") return "must have a path (e.g. https://app.example.com/oauth/client.json)";
  // The URL parser would resolve dot segments, so a different URL would be fetched than the id names.
  if (path.split("/").some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) return "must not contain . or .. path segments";
  return null;
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
 * const { resolveClient } = createResolver(context, lifecycle, registryOptions.clientIdMetadataDocuments, metadataToClientInput);
 * const client = await resolveClient("https://app.example.com/oauth/client.json");
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
  }
  // The safe, caching fetcher unless the embedder brings its own.
  const fetchClientMetadata = documents === undefined ? undefined : (documents.fetchClientMetadata ?? createClientMetadataFetcher());

  async function fetchDocument(url: string): Promise<unknown> {
    try {
      return await fetchClientMetadata!(url);
    } catch (error) {
      if (error instanceof OAuthClientError && error.status >= 500) throw error;
      const reason = error instanceof Error && error.message !== "" ? `: ${error.message}` : "";
      throw new ClientMetadataError([{ path: "", message: `the client metadata document could not be fetched${reason}` }]);
    }
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

  /** Stores the client of a document: inserted when new, updated only when its fields changed. */
  async function upsert(url: string, document: unknown, stored: StoredClient | null): Promise<StoredClient> {
    for (let attempt = 0; attempt < context.maxWriteAttempts; attempt++) {
      const current = attempt === 0 ? stored : await storeCall(() => store.getById(url));
      const next = await recordOf(url, document, current);
      if (current === null) {
        if (await storeCall(() => store.insert(next))) {
          context.emit({ type: "client.created", account_id: next.account_id, client_id: url, at: next.created_at, source: "cimd" });
          return next;
        }
        continue;
      }
      const changed = changedFields(current, next);
      if (changed.length === 0) return current;
      next.version = current.version + 1;
      if (await storeCall(() => store.update(next, current.version))) {
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
    }
    // Writers kept racing on this client: what is stored now is as fresh as this document.
    const latest = await storeCall(() => store.getById(url));
    if (latest) return latest;
    throw new ClientMetadataError([{ path: "", message: "the client could not be stored; retry" }]);
  }

  /** The stored record of any id kind (a metadata document fetched and stored first), or null. */
  async function resolveRecord(clientId: string): Promise<StoredClient | null> {
    // A URL id gets a specific error (too long, a fragment…) rather than "unknown client".
    if (documents !== undefined && typeof clientId === "string" && /^https:/i.test(clientId)) {
      const problem = metadataUrlProblem(clientId);
      if (problem !== null) throw new ClientMetadataError([{ path: "/client_id", message: `a client id URL ${problem}` }]);
      const record = await storeCall(() => store.getById(clientId));
      // A client stored under this id by other means (an operator's own ids) is never rewritten from a document.
      if (record !== null && record.source !== "cimd") return record;
      return upsert(clientId, await fetchDocument(clientId), record);
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
