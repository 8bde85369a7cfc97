/**
 * The v4 API of the page's own origin, called with the operator's
 * credentials. They live in sessionStorage: one tab, gone when it closes or
 * on sign-out, never sent anywhere but this origin.
 */

/** What the operator signed in with. */
export type Credentials =
  | { kind: "token"; token: string; accountId: string }
  | { kind: "key"; key: string; email: string; accountId: string };

/** One error of the v4 envelope. */
export interface ApiIssue {
  code: number;
  message: string;
  source?: { pointer?: string };
}

/** A failed call: the HTTP status and the envelope's errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly issues: ApiIssue[],
  ) {
    super(issues.map((i) => i.message).join("; ") || `HTTP ${status}`);
  }
}

/** A client as the API returns it; only the fields the console reads are typed. */
export interface Client {
  client_id: string;
  client_name: string;
  visibility: "private" | "public";
  source?: string;
  token_endpoint_auth_method: string;
  scopes: string[];
  client_uri?: string;
  logo_uri?: string;
  client_uri_verification?: { status: string; text: string };
  has_rotated_secret: boolean;
  created_at: string;
  updated_at: string;
  promoted_at?: string;
  last_used_at?: string | null;
  secret_last_used_at?: string | null;
  rotated_secret_last_used_at?: string | null;
  /** When the rotated secret stops authenticating; absent when there is none or it lasts until deleted. */
  rotated_secret_expires_at?: string;
  [field: string]: unknown;
}

const STORAGE_KEY = "oauth-client-registry.console.credentials";

/** The credentials of this tab, or null before sign-in. */
export function loadCredentials(): Credentials | null {
  const text = sessionStorage.getItem(STORAGE_KEY);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Credentials;
  } catch {
    return null;
  }
}

/** Keeps credentials for this tab only. */
export function saveCredentials(credentials: Credentials | null): void {
  if (credentials === null) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
}

/** A successful answer: the result, the ETag, and the envelope's result_info. */
export interface Answer<T> {
  result: T;
  etag: string | null;
  info: { cursor?: string | null; count?: number } | undefined;
}

/** Calls the API; rejects with {@link ApiError} on any non-2xx answer. */
export async function call<T>(
  apiBase: string,
  credentials: Credentials | null,
  method: string,
  path: string,
  options: { body?: unknown; ifMatch?: string | null } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (credentials?.kind === "token") headers.authorization = `Bearer ${credentials.token}`;
  if (credentials?.kind === "key") {
    headers["x-auth-key"] = credentials.key;
    headers["x-auth-email"] = credentials.email;
  }
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.ifMatch) headers["if-match"] = options.ifMatch;
  let response: Response;
  try {
    response = await fetch(`${apiBase}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, [{ code: 0, message: "The server cannot be reached." }]);
  }
  let envelope: { success?: boolean; errors?: ApiIssue[]; result?: T; result_info?: Answer<T>["info"] } = {};
  try {
    envelope = (await response.json()) as typeof envelope;
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!response.ok || envelope.success === false) {
    const issues = Array.isArray(envelope.errors) && envelope.errors.length > 0 ? envelope.errors : [{ code: response.status, message: `HTTP ${response.status}` }];
    throw new ApiError(response.status, issues);
  }
  return { result: envelope.result as T, etag: response.headers.get("etag"), info: envelope.result_info };
}

/** Path of an account's clients. */
export function clientsPath(accountId: string, clientId?: string, suffix = ""): string {
  const base = `/accounts/${encodeURIComponent(accountId)}/oauth_clients`;
  return clientId === undefined ? base : `${base}/${encodeURIComponent(clientId)}${suffix}`;
}
