/**
 * oauth-client-registry/http — the registry over HTTP, wire-compatible with
 * the Cloudflare v4 OAuth Clients API, plus a node:http bridge, ready-made
 * `authorize` callbacks (one bearer token, or a set of hashed tokens and API
 * key + email pairs), and the generated OpenAPI document.
 */
export {
  createFetchHandler,
  DEFAULT_MAX_BODY_BYTES,
  type Authorize,
  type AuthorizeContext,
  type FetchHandler,
  type FetchHandlerOptions,
  type ScopeDescription,
} from "./handler.js";
export {
  bearerTokenAuthorize,
  createCredentialsAuthorizer,
  hashCredentialSecret,
  validateCredentials,
  MAX_CREDENTIAL_EMAIL_LENGTH,
  MAX_CREDENTIAL_SECRET_LENGTH,
  type ApiCredential,
  type CredentialAccess,
  type CredentialGrant,
  type CredentialProblem,
  type CredentialsAuthorizer,
} from "./authorizers.js";
export { createNodeRequestListener } from "./node-bridge.js";
export type { NodeIncomingMessage, NodeRequestListener, NodeRequestListenerOptions, NodeServerResponse } from "./node-types.js";
export {
  generateOpenApiDocument,
  normalizeBasePath,
  type JsonValue,
  type OpenApiDocument,
  type OpenApiOptions,
} from "./openapi.js";
export { HTTP_ERROR_CODES, type HttpErrorCode, type HttpErrorKind } from "./codes.js";
export type { AccountPermission, GlobalPermission, Permission, OperationName } from "./routes.js";
export type { ApiMessage, ResultInfo } from "./envelope.js";
export type { DeletedResource, OAuthScope, RotatedSecret } from "./schemas.js";
export { UnauthorizedError, ForbiddenError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors.js";
