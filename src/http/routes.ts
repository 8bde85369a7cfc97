/**
 * The route table: which paths exist, which methods each accepts, and the
 * permission each operation needs. The OpenAPI document and the handler
 * both read it, so they cannot disagree.
 */

/** Permissions of account-scoped operations. */
export type AccountPermission =
  | "account.oauth-client.list"
  | "account.oauth-client.read"
  | "account.oauth-client.create"
  | "account.oauth-client.update"
  | "account.oauth-client.delete";

/**
 * Permission of `GET /oauth/scopes`: any authenticated caller, no account
 * involved (the catalog is the same for everyone).
 */
export type GlobalPermission = "oauth-scope.list";

export type Permission = AccountPermission | GlobalPermission;

export type OperationName =
  | "listClients"
  | "createClient"
  | "getClient"
  | "updateClient"
  | "deleteClient"
  | "rotateSecret"
  | "deleteRotatedSecret"
  | "verifyClientUri"
  | "previewPurge"
  | "purgeClients"
  | "listScopes"
  | "openApiDocument";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface Operation {
  name: OperationName;
  method: HttpMethod;
  /** Null: served without calling `authorize` (the OpenAPI document). */
  permission: Permission | null;
  /** Whether the operation reads a JSON body; the others accept none (or `{}`). */
  takesBody: boolean;
  /** With `takesBody`: whether no body at all is accepted too (an extension's optional body on a Cloudflare route). */
  bodyOptional: boolean;
  /** Whether the response carries a secret (answered with Cache-Control: no-store). */
  returnsSecret: boolean;
  /** Whether the response carries one client (answered with its ETag). */
  returnsClient: boolean;
  /** Whether `If-Match` is honored (412 when it names a stale version). */
  conditional: boolean;
}

/** What an operation does besides its method and permission; every flag defaults to false. */
interface OperationFlags {
  takesBody?: boolean;
  bodyOptional?: boolean;
  returnsSecret?: boolean;
  returnsClient?: boolean;
  conditional?: boolean;
}

/** A path template and its operations, in the order methods are listed in Allow. */
export interface Route {
  /** Segments; `{name}` captures one path segment. */
  template: readonly string[];
  operations: readonly Operation[];
}

const op = (name: OperationName, method: HttpMethod, permission: Permission | null, flags: OperationFlags = {}): Operation => ({
  name,
  method,
  permission,
  takesBody: flags.takesBody ?? false,
  bodyOptional: flags.bodyOptional ?? false,
  returnsSecret: flags.returnsSecret ?? false,
  returnsClient: flags.returnsClient ?? false,
  conditional: flags.conditional ?? false,
});

export const ROUTES: readonly Route[] = [
  {
    template: ["accounts", "{account_id}", "oauth_clients"],
    operations: [
      op("listClients", "GET", "account.oauth-client.list"),
      op("createClient", "POST", "account.oauth-client.create", { takesBody: true, returnsSecret: true, returnsClient: true }),
    ],
  },
  {
    // An extension, not in Cloudflare's API, beside oauth_clients rather than under it:
    // an imported client may be called "purge", so no name below oauth_clients is free.
    template: ["accounts", "{account_id}", "oauth_clients_purge"],
    operations: [
      // The preview deletes nothing: it only lists, so list permission is enough.
      op("previewPurge", "GET", "account.oauth-client.list"),
      op("purgeClients", "POST", "account.oauth-client.delete", { takesBody: true }),
    ],
  },
  {
    template: ["accounts", "{account_id}", "oauth_clients", "{oauth_client_id}"],
    operations: [
      op("getClient", "GET", "account.oauth-client.read", { returnsClient: true }),
      op("updateClient", "PATCH", "account.oauth-client.update", { takesBody: true, returnsClient: true, conditional: true }),
      op("deleteClient", "DELETE", "account.oauth-client.delete", { conditional: true }),
    ],
  },
  {
    template: ["accounts", "{account_id}", "oauth_clients", "{oauth_client_id}", "rotate_secret"],
    operations: [
      // Rotating and retiring a secret change the client: update permission.
      // Cloudflare's SDK sends no body; `{ grace_period_seconds }` is an extension.
      op("rotateSecret", "POST", "account.oauth-client.update", { takesBody: true, bodyOptional: true, returnsSecret: true, conditional: true }),
      op("deleteRotatedSecret", "DELETE", "account.oauth-client.update", { conditional: true }),
    ],
  },
  {
    // An extension, not in Cloudflare's API: checks the client_uri TXT record now.
    template: ["accounts", "{account_id}", "oauth_clients", "{oauth_client_id}", "verify_client_uri"],
    operations: [op("verifyClientUri", "POST", "account.oauth-client.update", { returnsClient: true, conditional: true })],
  },
  { template: ["oauth", "scopes"], operations: [op("listScopes", "GET", "oauth-scope.list")] },
  { template: ["openapi.json"], operations: [op("openApiDocument", "GET", null)] },
];

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/**
 * Finds the route whose template matches the decoded path segments.
 *
 * @example
 * ```ts
 * matchRoute(["accounts", "a1", "oauth_clients"])?.params; // { account_id: "a1" }
 * ```
 */
export function matchRoute(segments: readonly string[]): RouteMatch | null {
  for (const route of ROUTES) {
    if (route.template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matched = true;
    for (let i = 0; i < segments.length; i++) {
      const part = route.template[i]!;
      const segment = segments[i]!;
      if (part.startsWith("{")) {
        if (segment === "") {
          matched = false;
          break;
        }
        params[part.slice(1, -1)] = segment;
      } else if (part !== segment) {
        matched = false;
        break;
      }
    }
    if (matched) return { route, params };
  }
  return null;
}

/**
 * The Allow header value of a route (HEAD is served wherever GET is).
 *
 * @example
 * ```ts
 * allowHeader(matchRoute(["oauth", "scopes"])!.route); // "GET, HEAD"
 * ```
 */
export function allowHeader(route: Route): string {
  const methods: string[] = route.operations.map((o) => o.method);
  if (methods.includes("GET")) methods.splice(methods.indexOf("GET") + 1, 0, "HEAD");
  return methods.join(", ");
}
