/** Shared fixtures of the HTTP tests: a registry over memory, a token-based authorize, a valid body as JSON. */
import { createMemoryStore } from "../../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClientRegistry } from "../../src/index.js";
import type { ClientStore } from "../../src/model/store.js";
import {
  createFetchHandler,
  UnauthorizedError,
  type AuthorizeContext,
  type FetchHandler,
  type FetchHandlerOptions,
  type Permission,
} from "../../src/http/index.js";
import { createBody } from "./registry.js";

export const ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353";
export const OTHER_ACCOUNT = "99999999999999999999999999999999";
export const ADMIN_TOKEN = "admin-token";
export const READER_TOKEN = "reader-token";

/** Tokens and what they may do: the admin everything on ACCOUNT, the reader only reads. */
export const TOKENS: Record<string, { accounts: string[]; permissions: Permission[] }> = {
  [ADMIN_TOKEN]: {
    accounts: [ACCOUNT, OTHER_ACCOUNT],
    permissions: [
      "account.oauth-client.list",
      "account.oauth-client.read",
      "account.oauth-client.create",
      "account.oauth-client.update",
      "account.oauth-client.delete",
      "oauth-scope.list",
    ],
  },
  [READER_TOKEN]: { accounts: [ACCOUNT], permissions: ["account.oauth-client.list", "account.oauth-client.read"] },
};

/** Bearer-token authorize over {@link TOKENS}: unknown token → 401, missing permission → false (403). */
export function tokenAuthorize(request: Request, context: AuthorizeContext): boolean {
  const match = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "");
  const grant = match && Object.hasOwn(TOKENS, match[1]!) ? TOKENS[match[1]!] : undefined;
  if (!grant) throw new UnauthorizedError("a valid bearer token is required");
  if (!grant.permissions.includes(context.permission)) return false;
  return context.accountId === null || grant.accounts.includes(context.accountId);
}

export const SCOPE_CATALOG = ["zone.read", "zone.edit", "account.read"];

export interface Harness {
  store: ClientStore;
  registry: OAuthClientRegistry;
  handler: FetchHandler;
}

export function createHarness(options: Partial<FetchHandlerOptions> = {}, store: ClientStore = createMemoryStore()): Harness {
  const registry = createOAuthClientRegistry(store, { scopeCatalog: SCOPE_CATALOG });
  const handler = createFetchHandler(registry, { authorize: tokenAuthorize, onError: () => {}, ...options });
  return { store, registry, handler };
}

/** A valid create body for the HTTP tests ({@link createBody}, scopes in {@link SCOPE_CATALOG}) as JSON; overrides may be invalid. */
export function validCreateBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...createBody({ scopes: ["zone.read"] }), ...overrides };
}

/** Builds a request against the default base path with the admin token unless told otherwise. */
export function apiRequest(
  method: string,
  path: string,
  init: { body?: BodyInit | null; json?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Request {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? ADMIN_TOKEN}`);
  let body: BodyInit | null | undefined = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  return new Request(`http://localhost/client/v4${path}`, { method, headers, body: body ?? null });
}

export interface Envelope {
  success: boolean;
  errors: { code: number; message: string; source?: { pointer: string } }[];
  messages: unknown[];
  result: unknown;
  result_info?: { count: number; per_page?: number; cursor?: string };
}

export async function envelopeOf(response: Response): Promise<Envelope> {
  return (await response.json()) as Envelope;
}
