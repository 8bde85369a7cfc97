/**
 * Safe fetching of documents named by untrusted URLs: Client ID Metadata
 * Documents and `jwks_uri` key sets.
 */
export { classifyAddress, isPublicAddress, type AddressCategory } from "./addresses.js";
export { RemoteFetchError, type RemoteFetchReason } from "./errors.js";
export {
  createSafeFetcher,
  parseRemoteUrl,
  type FetchJsonOptions,
  type FetchJsonResult,
  type RemoteLookup,
  type SafeFetcher,
  type SafeFetcherOptions,
} from "../platform/pinned-fetch.node.js";
export { createFetchTransport, type FetchTransportOptions } from "../platform/transport.web.js";
export {
  createClientMetadataFetcher,
  createRemoteKeySetFetcher,
  type ClientMetadataFetcher,
  type ClientMetadataFetcherOptions,
  type RemoteCacheOptions,
  type RemoteDocumentFetcherOptions,
  type RemoteKeySetFetcher,
  type RemoteKeySetFetcherOptions,
} from "./cache.js";
