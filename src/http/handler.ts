/**
 * createFetchHandler — the registry over HTTP, wire-compatible with the
 * Cloudflare v4 OAuth Clients API. It only translates: route → permission
 * check → body → registry call → envelope. Every rule stays in the registry.
 */
import { OAuthClientError, ValidationError } from "../model/errors.js";
import type { OAuthClient } from "../fields.js";
import type { ClientSource } from "../fields.js";
import type { ListOptions, OAuthClientRegistry, WriteOptions } from "../registry/registry.js";
import type { PurgeResult } from "../registry/api.js";

import { clientVersion } from "../model/versions.js";
import { pageSizeProblem } from "../model/ids.js";
import { clientEtag, parseIfMatch } from "./etag.js";
import { parseJsonBody, type BodyProblem } from "./body.js";
import { purgeBodyOptions, purgePreviewOptions, rotateSecretOptions, type PurgeBatch } from "./extensions.js";
import { CALL_HANDLER, fetchCall, type CallHandler, type IncomingCall } from "./call.js";
import { errorAnswer, failureAnswer, successAnswer, toResponse, type Answer, type ResultInfo } from "./envelope.js";
import { PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors.js";
import { generateOpenApiDocument, normalizeBasePath } from "./openapi.js";
import { findPathProblem } from "./path.js";
import { allowHeader, matchRoute, type AccountPermission, type GlobalPermission, type Operation } from "./routes.js";
import type { OAuthScope } from "./schemas.js";
import { validateFetchHandlerOptions } from "../model/options.js";

/** Registry list issues that are about the query string (others, such as the account id, keep their own answer). */
const QUERY_ISSUE_PATHS = new Set(["/cursor", "/source", "/usedBefore", "/neverUsed"]);

/** The list filters a query may carry. */
type ListFilters = Pick<ListOptions, "source" | "usedBefore" | "neverUsed">;

/**
 * What `authorize` is asked: an account-scoped permission, or (for the
 * scope catalog) the global `oauth-scope.list` with no account.
 */
export type AuthorizeContext =
  | { accountId: string; permission: AccountPermission }
  | { accountId: null; permission: GlobalPermission };

/**
 * Decides whether a request may run. Return `true` to allow; anything else
 * answers 403. Throw `UnauthorizedError` for missing or bad credentials
 * (401) or `ForbiddenError` for a custom 403 message. Must not read the
 * request body (the handler reads it after authorization).
 */
export type Authorize = (request: Request, context: AuthorizeContext) => boolean | Promise<boolean>;

/** Options of {@link createFetchHandler}. */
export interface FetchHandlerOptions {
  /** Decides every call; required, there is no default that lets everyone in. */
  authorize: Authorize;
  /** Prefix of every route. Default `"/client/v4"` (as on api.cloudflare.com). */
  basePath?: string;
  /** Largest accepted request body, counted on the bytes received. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Serve the OpenAPI document at `{basePath}/openapi.json` without authentication. Default true. */
  serveOpenApi?: boolean;
  /**
   * Display name, category and underlying resource scopes of a catalog scope
   * in `GET /oauth/scopes`. Default: the scope itself as its name.
   */
  describeScope?: (scope: string) => ScopeDescription | undefined;
  /**
   * Called with every unexpected error (answered 500 with a generic message)
   * and with errors thrown by `authorize` that are not typed errors.
   * Default: `console.error`.
   */
  onError?: (error: unknown, request: Request) => void;
}

/** What `describeScope` may tell about a scope; each member is optional. */
export interface ScopeDescription {
  name?: string;
  category?: string;
  /** Resource scopes the scope grants, listed as the item's `scopes` (the official SDK's type). */
  scopes?: readonly string[];
}

/** A standard Fetch API handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Serves the registry over HTTP with the Cloudflare v4 envelope. The result
 * is a plain `(request: Request) => Promise<Response>`, so it mounts in
 * Hono, Next.js route handlers, Bun, Deno and Workers as is, and in
 * Express or node:http through {@link createNodeRequestListener}.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createMemoryStore } from "oauth-client-registry/memory";
 * import { createFetchHandler, UnauthorizedError } from "oauth-client-registry/http";
 *
 * const sessions = new Map<string, { accounts: string[] }>(); // your sessions, by bearer token
 * const registry = createOAuthClientRegistry(createMemoryStore());
 * const handler = createFetchHandler(registry, {
 *   authorize: (request, { accountId }) => {
 *     const session = sessions.get(request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "");
 *     if (!session) throw new UnauthorizedError();
 *     return accountId === null || session.accounts.includes(accountId);
 *   },
 * });
 * const response = await handler(new Request("http://localhost/client/v4/oauth/scopes"));
 * ```
 */
export function createFetchHandler(registry: OAuthClientRegistry, options: FetchHandlerOptions): FetchHandler {
  validateFetchHandlerOptions(options);
  const authorize = options.authorize;
  const basePath = normalizeBasePath(options.basePath ?? "/client/v4");
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new TypeError("createFetchHandler: maxBodyBytes must be a positive integer");
  }
  const serveOpenApi = options.serveOpenApi ?? true;
  const onError =
    options.onError ??
    ((error: unknown) => {
      console.error("oauth-client-registry: internal error while handling a request", error);
    });
  let openApiJson: string | undefined;

  const report = (error: unknown, request: Request) => {
    try {
      onError(error, request);
    } catch {
      // A failing logger must not turn into an unhandled rejection.
    }
  };

  async function handle(call: IncomingCall): Promise<Answer> {
    const pathname = call.pathname;
    // The runtime's URL parser has already resolved literal and %2e dot
    // segments; what survives it (encoded separators, double encoding, a
    // runtime that does not normalize) is refused here.
    const unsafePath = findPathProblem(pathname);
    if (unsafePath !== null) return failureAnswer("bad_request", [{ message: unsafePath }]);
    const segments = routeSegments(pathname, basePath);
    const match = segments === null ? null : matchRoute(segments);
    if (match === null || (match.route.template[0] === "openapi.json" && !serveOpenApi)) {
      return failureAnswer("route_not_found", [{ message: `no route for ${clip(call.method)} ${clip(pathname)}` }]);
    }
    // Fetch normalizes the standard methods' case; anything else is a different method.
    const method = call.method === "HEAD" ? "GET" : call.method;
    const operation = match.route.operations.find((o) => o.method === method);
    if (!operation) {
      return failureAnswer("method_not_allowed", [{ message: `${clip(call.method)} is not allowed on ${clip(pathname)}` }], {
        allow: allowHeader(match.route),
      });
    }
    const accountId = match.params.account_id ?? null;
    const clientId = match.params.oauth_client_id ?? "";

    if (operation.permission !== null) {
      const context: AuthorizeContext =
        operation.permission === "oauth-scope.list"
          ? { accountId: null, permission: operation.permission }
          : { accountId: accountId!, permission: operation.permission };
      let allowed: unknown;
      try {
        allowed = await authorize(call.request(), context);
      } catch (error) {
        if (error instanceof OAuthClientError && (error.status === 401 || error.status === 403)) return errorAnswer(error);
        throw error;
      }
      if (allowed !== true) {
        return failureAnswer("forbidden", [{ message: `missing permission ${operation.permission}` }]);
      }
    }

    let body: unknown;
    if (method !== "GET") {
      const read = await parseJsonBody(() => call.readBody(maxBodyBytes), () => call.header("content-type"), maxBodyBytes);
      if (!read.ok) return bodyProblem(read.problem);
      if (operation.takesBody) {
        if (read.empty && !operation.bodyOptional) return failureAnswer("validation_failed", [{ message: "a JSON object body is required", pointer: "" }]);
        body = read.empty ? undefined : read.value;
      } else if (!read.empty && !isEmptyObject(read.value)) {
        return failureAnswer("validation_failed", [{ message: "this endpoint takes no request body (send none, or {})", pointer: "" }]);
      }
    }
    const ifMatch = operation.conditional ? parseIfMatch(call.header("if-match")) : null;
    const write: WriteOptions = ifMatch?.kind === "versions" ? { expectedVersion: ifMatch.versions } : {};
    return run(operation, accountId ?? "", clientId, body, call, write);
  }

  /** The success response of an operation: no-store and ETag follow the route table. */
  function respond(operation: Operation, result: unknown): Answer {
    const answer = successAnswer(result);
    if (operation.returnsSecret) answer.headers["cache-control"] = "no-store";
    const version = operation.returnsClient ? clientVersion(result as OAuthClient) : undefined;
    if (version !== undefined) answer.headers.etag = clientEtag(version);
    return answer;
  }

  async function run(
    operation: Operation,
    accountId: string,
    clientId: string,
    body: unknown,
    call: IncomingCall,
    write: WriteOptions,
  ): Promise<Answer> {
    switch (operation.name) {
      case "listClients":
        return listClients(accountId, call.searchParams());
      case "createClient":
        return respond(operation, await registry.create(accountId, body as Parameters<OAuthClientRegistry["create"]>[1]));
      case "getClient":
        return respond(operation, await registry.get(accountId, clientId));
      case "updateClient":
        return respond(operation, await registry.update(accountId, clientId, body as Parameters<OAuthClientRegistry["update"]>[2], write));
      case "deleteClient":
        return respond(operation, await registry.delete(accountId, clientId, write));
      case "rotateSecret":
        return respond(operation, await registry.rotateSecret(accountId, clientId, { ...write, ...rotateSecretOptions(body) }));
      case "deleteRotatedSecret":
        return respond(operation, await registry.deleteRotatedSecret(accountId, clientId, write));
      case "verifyClientUri":
        return respond(operation, await registry.verifyClientUri(accountId, clientId, write));
      case "previewPurge":
        return previewPurge(accountId, call.searchParams());
      case "purgeClients": {
        const { deleted, next_cursor } = await registry.purgeClients(accountId, purgeBodyOptions(body));
        const batch: PurgeBatch = { deleted, next_cursor };
        return successAnswer(batch);
      }
      case "listScopes": {
        const scopes = (await registry.listScopes()).map((id) => describe(id));
        return successAnswer(scopes, { resultInfo: { count: scopes.length } });
      }
      case "openApiDocument":
        openApiJson ??= JSON.stringify(generateOpenApiDocument({ basePath }));
        return {
          status: 200,
          headers: { "content-type": "application/json; charset=utf-8", "x-content-type-options": "nosniff" },
          body: openApiJson,
        };
    }
  }

  function describe(id: string): OAuthScope {
    const details = options.describeScope?.(id);
    const scope: OAuthScope = { id, name: details?.name ?? id };
    if (details?.category !== undefined) scope.category = details.category;
    if (details?.scopes !== undefined) scope.scopes = [...details.scopes];
    return scope;
  }

  /**
   * The list filters of the query (`source=dcr,cimd`, `used_before=<RFC 3339>`,
   * `never_used=true|false`), or the message of the first malformed one; the
   * registry checks the values themselves.
   */
  function listFilters(query: URLSearchParams): ListFilters | string {
    const filters: ListFilters = {};
    const source = query.get("source");
    if (source !== null) filters.source = source.split(",") as ClientSource[];
    const usedBefore = query.get("used_before");
    if (usedBefore !== null) filters.usedBefore = usedBefore;
    const neverUsed = query.get("never_used");
    if (neverUsed !== null) {
      if (neverUsed !== "true" && neverUsed !== "false") return "never_used must be true or false";
      filters.neverUsed = neverUsed === "true";
    }
    return filters;
  }

  /** What a purge with the query's parameters would delete, as a page of client objects; deletes nothing. */
  async function previewPurge(accountId: string, query: URLSearchParams): Promise<Answer> {
    const parsed = purgePreviewOptions(query);
    if ("problems" in parsed) return failureAnswer("invalid_parameter", parsed.problems.map((message) => ({ message })));
    const { options } = parsed;
    let batch: PurgeResult;
    try {
      batch = await registry.purgeClients(accountId, { ...options, dryRun: true });
    } catch (error) {
      if (error instanceof ValidationError && error.issues.every((i) => i.path === "/cursor")) {
        return failureAnswer("invalid_parameter", [{ message: queryProblem("/cursor", "") }]);
      }
      throw error;
    }
    const clients = batch.clients ?? [];
    const resultInfo: ResultInfo = { count: clients.length, per_page: options.limit };
    if (batch.next_cursor !== null) resultInfo.cursor = batch.next_cursor;
    return successAnswer(clients, { resultInfo });
  }

  async function listClients(accountId: string, query: URLSearchParams): Promise<Answer> {
    const perPageRaw = query.get("per_page");
    const cursor = query.get("cursor");
    const maxPageSize = registry.limits.maxPageSize;
    const filters = listFilters(query);
    if (typeof filters === "string") return failureAnswer("invalid_parameter", [{ message: filters }]);
    try {
      return await listPages(accountId, perPageRaw, cursor, maxPageSize, filters);
    } catch (error) {
      // Cursor and filter problems are query-parameter problems.
      if (error instanceof ValidationError && error.issues.every((i) => QUERY_ISSUE_PATHS.has(i.path))) {
        return failureAnswer(
          "invalid_parameter",
          error.issues.map((i) => ({ message: queryProblem(i.path, i.message) })),
        );
      }
      throw error;
    }
  }

  /** A registry list issue in the query's own terms. */
  function queryProblem(path: string, message: string): string {
    if (path === "/cursor") return "cursor is malformed: pass result_info.cursor of a previous page unchanged";
    if (path === "/usedBefore") return "used_before must be an RFC 3339 date-time";
    if (path === "/source") return `source ${message} (comma-separated)`;
    return message;
  }

  async function listPages(
    accountId: string,
    perPageRaw: string | null,
    cursor: string | null,
    maxPageSize: number,
    filters: ListFilters,
  ): Promise<Answer> {
    if (perPageRaw === null && (cursor === null || cursor === "")) {
      // The official SDK reads this list as a single page, so a plain call
      // returns every client, gathered page by page (each page O(page)).
      const clients = [];
      let next: string | null = null;
      do {
        const page = await registry.list(accountId, { ...filters, limit: maxPageSize, cursor: next });
        clients.push(...page.clients);
        next = page.next_cursor;
      } while (next !== null);
      return successAnswer(clients, { resultInfo: { count: clients.length } });
    }
    let perPage = registry.limits.defaultPageSize;
    if (perPageRaw !== null) {
      perPage = /^\d{1,6}$/.test(perPageRaw) ? Number(perPageRaw) : Number.NaN;
      const problem = pageSizeProblem(perPage, maxPageSize);
      if (problem !== null) return failureAnswer("invalid_parameter", [{ message: `per_page ${problem}` }]);
    }
    const page = await registry.list(accountId, { ...filters, limit: perPage, cursor });
    const resultInfo: ResultInfo = { count: page.clients.length, per_page: perPage };
    if (page.next_cursor !== null) resultInfo.cursor = page.next_cursor;
    return successAnswer(page.clients, { resultInfo });
  }

  const handleCall: CallHandler = async (call) => {
    try {
      return await handle(call);
    } catch (error) {
      if (error instanceof OAuthClientError) {
        if (!error.expose || error.status >= 500) report(error, call.request());
        return errorAnswer(error);
      }
      report(error, call.request());
      return failureAnswer("internal_error", [{ message: "internal server error" }]);
    }
  };
  const handleRequest: FetchHandler = async (request) => toResponse(await handleCall(fetchCall(request)), request.method === "HEAD");
  // The node bridge calls the handler below the fetch signature (no Request, no Response).
  Object.defineProperty(handleRequest, CALL_HANDLER, { value: handleCall });
  return handleRequest;
}

function bodyProblem(problem: BodyProblem): Answer {
  switch (problem.kind) {
    case "payload_too_large":
      return errorAnswer(new PayloadTooLargeError(problem.limit));
    case "unsupported_media_type":
      return errorAnswer(new UnsupportedMediaTypeError(problem.contentType === null ? null : clip(problem.contentType)));
    case "malformed_json":
      return failureAnswer("malformed_json", [{ message: problem.message }]);
    case "duplicate_keys": {
      const entries = problem.pointers.map((pointer) => ({ message: "duplicate member name: each name may appear only once in an object", pointer }));
      if (problem.more > 0) entries.push({ message: `and ${problem.more} more duplicate member names`, pointer: "" });
      return failureAnswer("validation_failed", entries);
    }
  }
}

/** Caller-supplied text echoed in a message is kept short. */
function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isEmptyObject(value: unknown): boolean {
  return value === null || (typeof value === "object" && !Array.isArray(value) && Object.keys(value as object).length === 0);
}

/**
 * The decoded path segments below `basePath`, or null when the path is
 * outside it or cannot be decoded. One trailing slash is tolerated. The
 * path has passed {@link findPathProblem}, so no segment decodes to `.`,
 * `..` or text containing a separator.
 */
function routeSegments(pathname: string, basePath: string): string[] | null {
  if (basePath !== "" && pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return null;
  let rest = pathname.slice(basePath.length);
  if (rest.length > 1 && rest.endsWith("/")) rest = rest.slice(0, -1);
  if (!rest.startsWith("/")) return null;
  try {
    const segments = rest.slice(1).split("/");
    for (let i = 0; i < segments.length; i++) {
      if (segments[i]!.includes("%")) segments[i] = decodeURIComponent(segments[i]!);
    }
    return segments;
  } catch {
    return null;
  }
}
