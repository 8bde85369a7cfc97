/**
 * The public types of the registration handler: what it needs from the
 * registry, its options, the policy hook and the error the hook throws.
 */
import type { OAuthClientRegistry } from "../registry/api.js";
import type { ClientMetadataInput, RegistrationErrorCode } from "../rules/metadata.js";
import type { RegistrationClientLimit } from "./client-limit.js";

/**
 * The registry operations the handler calls: RFC 7591 registration, RFC
 * 7592 read, update and delete (each checking the registration access
 * token), and `authenticate`, which checks a `client_secret` an update
 * sends back. A registry from `createOAuthClientRegistry` has them all.
 */
export type RegistrationRegistry = Pick<
  OAuthClientRegistry,
  "registerClient" | "readRegistration" | "updateRegistration" | "deleteRegistration" | "authenticate"
>;

/** What the policy hook is told about the request it decides on. */
export interface RegistrationPolicyContext {
  /** "register" for RFC 7591 POST, "update" for RFC 7592 PUT. */
  operation: "register" | "update";
  /** The account the client is (or will be) stored in. */
  accountId: string;
  /** The client being updated; null for a new registration. */
  clientId: string | null;
  /** The metadata as the client sent it, RFC 7591 member names, unknown members included (e.g. `software_id`). */
  metadata: Readonly<Record<string, unknown>>;
  request: Request;
}

/**
 * The embedder's registration policy: receives the client's metadata in
 * this registry's field names (RFC 7591 defaults applied) and returns what
 * to register — the same object, a changed copy (force "none", drop a
 * grant type, limit scopes), or throws {@link RegistrationPolicyError} to
 * refuse. Whatever it returns still goes through every registry rule.
 */
export type RegistrationPolicy = (
  metadata: ClientMetadataInput,
  context: RegistrationPolicyContext,
) => ClientMetadataInput | Promise<ClientMetadataInput>;

/**
 * Thrown by a registration policy to refuse a registration or update: the
 * handler answers 400 with this RFC 7591 error code and description.
 *
 * @example
 * ```ts
 * import { RegistrationPolicyError, type RegistrationPolicy } from "oauth-client-registry/registration";
 *
 * const policy: RegistrationPolicy = (metadata) => {
 *   if (!metadata.redirect_uris?.every((uri) => uri.startsWith("https://app.example.com/"))) {
 *     throw new RegistrationPolicyError("invalid_redirect_uri", "redirect URIs must be on app.example.com");
 *   }
 *   return metadata;
 * };
 * ```
 */
export class RegistrationPolicyError extends Error {
  /** RFC 7591 §3.2.2 error code of the response. */
  readonly code: RegistrationErrorCode;
  /** Always 400: RFC 7591 answers every refused registration with it. */
  readonly status = 400;

  constructor(code: RegistrationErrorCode, description: string) {
    super(description);
    this.name = "RegistrationPolicyError";
    this.code = code;
  }
}

/** Options of `createRegistrationHandler`. */
export interface RegistrationHandlerOptions {
  /**
   * Path of the registration endpoint, as it appears in `request.url`;
   * RFC 7592 management lives at `<path>/<client_id>`. Default `"/register"`.
   */
  path?: string;
  /**
   * Public URL prefix the handler is reached at (scheme, host, and any
   * prefix a proxy strips), used to build `registration_client_uri` as
   * `<baseUrl><path>/<client_id>`; when set, nothing of the request is used.
   * Default: the origin of each request's URL — which most servers and
   * bridges build from the `Host` header (or an absolute-form target), that
   * is, from what the caller sent. Set it in production, and whenever a
   * proxy rewrites the host or the scheme.
   */
  baseUrl?: string;
  /** The account every registration lands in. One of `accountId` and `resolveAccount` is required. */
  accountId?: string;
  /** Picks the account of a registration from its request (e.g. by host or initial access token). */
  resolveAccount?: (request: Request) => string | Promise<string>;
  /**
   * When set, POST needs `Authorization: Bearer <initial access token>`
   * (RFC 7591 §3): called with the token (null when none was sent); anything
   * but `true` answers 401.
   */
  initialAccessToken?: (token: string | null, request: Request) => boolean | Promise<boolean>;
  /** Rewrites or refuses metadata before it is registered or updated; see {@link RegistrationPolicy}. */
  policy?: RegistrationPolicy;
  /** Called first on every request; anything but `true` answers 429 with `Retry-After`. */
  rateLimit?: (request: Request) => boolean | Promise<boolean>;
  /** `Retry-After` of a rate-limited request (and of one refused by `clientLimit`), in seconds. Default 60. */
  rateLimitRetryAfterSeconds?: number;
  /**
   * Caps the clients registration creates per account (see
   * `createRegistrationClientLimit`): past it a registration answers 429
   * with a message naming the cap. Default: no cap.
   */
  clientLimit?: RegistrationClientLimit;
  /**
   * Lifetime of the secrets registration issues, in seconds; sets
   * `client_secret_expires_at`. Default: secrets never expire (0). An
   * update keeps the secret and its expiry.
   */
  secretLifetimeSeconds?: number;
  /** Largest accepted request body, counted on the bytes received. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Clock for `client_secret_expires_at`. Default `() => new Date()`; pass the registry's clock. */
  now?: () => Date;
  /**
   * Let web pages of any origin call the endpoints (browser-based clients
   * such as an MCP inspector): `Access-Control-Allow-Origin: *` on every
   * response, and answers to CORS preflight requests. Safe for these
   * endpoints because none relies on cookies: registration is open or takes
   * an initial access token, RFC 7592 takes a bearer token. Default false.
   */
  cors?: boolean;
  /** Called with every unexpected error (answered 500 `server_error`). Default `console.error`. */
  onError?: (error: unknown, request: Request) => void;
}
