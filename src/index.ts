/**
 * oauth-client-registry — manage the OAuth 2.0 clients of an authorization
 * server: create, list, read, update, delete, rotate secrets with a
 * two-secret window, and authenticate clients at the token endpoint;
 * dynamic registration (RFC 7591/7592), Client ID Metadata Documents and
 * the lifecycle (last use, purge) of self-registered clients.
 */
export {
  createOAuthClientRegistry,
  type AssertionAuthenticationResult,
  type AuthenticateAssertionOptions,
  type AuthenticationResult,
  type ClientIdMetadataDocumentsOptions,
  type ClientPage,
  type ImportClientInput,
  type ListOptions,
  type OAuthClientRegistry,
  type OAuthClientRegistryOptions,
  type PurgeOptions,
  type PurgeResult,
  type RegisteredClient,
  type RegisterOptions,
  type RegistrationRead,
  type ResolveOptions,
  type RotateSecretOptions,
  type VerifyClientUriOptions,
  type WriteOptions,
} from "./registry/registry.js";
export { metadataUrlProblem } from "./registry/resolve.js";
export { MAX_JWKS_BYTES, MAX_JWKS_KEYS, type JsonWebKeySet } from "./rules/jwks.js";
export { clientVersion } from "./model/versions.js";
export {
  OAuthClientError,
  ValidationError,
  ClientMetadataError,
  NotFoundError,
  ConflictError,
  InternalError,
  PreconditionFailedError,
  StorageUnavailableError,
  OverloadedError,
  type OAuthClientErrorCode,
  type ValidationIssue,
} from "./model/errors.js";
export { UnauthorizedError, ForbiddenError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./http/errors.js";
export {
  createClientInputSchema,
  updateClientInputSchema,
  oauthClientSchema,
  createdOAuthClientSchema,
  DEFAULT_LIMITS,
  GRANT_TYPES,
  RESPONSE_TYPES,
  TOKEN_ENDPOINT_AUTH_METHODS,
  CLIENT_SOURCES,
  type ClientSource,
  type ClientUriVerification,
  type CreateClientInput,
  type CreatedOAuthClient,
  type GrantType,
  type OAuthClient,
  type RegistryLimits,
  type ResponseType,
  type TokenEndpointAuthMethod,
  type UpdateClientInput,
  type Visibility,
  type VerificationStatus,
  type ChangeTrackedField,
  type ClientFieldName,
  type StoredClientFields,
} from "./fields.js";
export { DEFAULT_IDENTITY_SCOPES, normalizeScopes, isApiScope, type ScopeCatalog, type ScopeRules } from "./rules/scopes.js";
export {
  createSecretHasher,
  defaultSecretHasher,
  DEFAULT_SCRYPT_PARAMS,
  type ScryptParams,
  type SecretHasher,
} from "./model/secrets.js";
export { checkRedirectUri, checkWebPageUrl, normalizeOrigin, isCorsOriginAllowed, isLoopbackHost } from "./rules/uris.js";
export { isRedirectUriAllowed } from "./rules/redirect.js";
export { resolveTxtWithNodeDns, type ResolveTxt } from "./registry/verification.js";
export {
  createVerificationScheduler,
  resolveTxtWithTimeout,
  TxtLookupTimeoutError,
  type SchedulerTimers,
  type VerificationScheduler,
  type VerificationSchedulerOptions,
} from "./registry/verification-scheduler.js";
export { createDohResolveTxt, DEFAULT_DOH_URL, DohLookupError, type DohResolveTxtOptions } from "./platform/doh.js";
export { createFetchTransport, type FetchTransportOptions } from "./platform/transport.web.js";
export { isStorageUnavailable } from "./model/storage-faults.js";
export type { RegistryEvent, RegistryEventListener, RegistryEventType } from "./model/events.js";
export type { AccountListQuery, ClaimRequest, ClaimResult, ClientStore, ListPosition, ListQuery, StoredClient } from "./model/store.js";
export {
  assertAccountListQuery,
  assertClaimRequest,
  claimRequestProblem,
  CLAIM_CLEANUP_BATCH,
  MAX_ACCOUNT_LIST_LIMIT,
  MAX_CLAIM_KEY_LENGTH,
  MAX_CLAIM_SCOPE_LENGTH,
} from "./model/store.js";
export * from "./assertions/index.js";
export type { AssertionRefusal, PrivateKeyJwtOptions } from "./registry/assertions.js";
