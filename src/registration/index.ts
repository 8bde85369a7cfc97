/**
 * oauth-client-registry/registration — dynamic client registration
 * (RFC 7591) and management (RFC 7592) as a Fetch handler, the RFC 8414
 * metadata members that advertise it, and the RFC 7591 metadata mapping
 * the handler and Client ID Metadata Documents share.
 */
export { createRegistrationHandler, DEFAULT_REGISTRATION_MAX_BODY_BYTES } from "./handler.js";
export { addressBucket, createStoreRateLimiter, type StoreRateLimiterOptions } from "./rate-limit.js";
export { createRegistrationClientLimit, type RegistrationClientLimit, type RegistrationClientLimitOptions } from "./client-limit.js";
export { scheduleIdlePurge, type IdlePurgeOptions, type IdlePurgeSchedule } from "./idle-purge.js";
export {
  registrationMetadata,
  DEFAULT_ASSERTION_SIGNING_ALGORITHMS,
  type RegistrationMetadataOptions,
  type RegistrationServerMetadata,
} from "./server-metadata.js";
export {
  RegistrationPolicyError,
  type RegistrationHandlerOptions,
  type RegistrationPolicy,
  type RegistrationPolicyContext,
  type RegistrationRegistry,
} from "./types.js";
export {
  clientToMetadata,
  metadataToClientInput,
  registrationErrorCode,
  type ClientInformationResponse,
  type ClientMetadataInput,
  type MetadataMappingOptions,
  type MetadataSource,
  type RegistrationErrorCode,
  type RegistrationResponseExtras,
} from "../rules/metadata.js";
export type { RegisteredClient, RegisterOptions, RegistrationRead } from "../registry/api.js";
