/**
 * The members an authorization server adds to its RFC 8414 metadata
 * document so that clients (the MCP SDKs among them) find how to register.
 */
import { ASSERTION_ALGORITHMS } from "../assertions/verifier.js";

/** Options of {@link registrationMetadata}. */
export interface RegistrationMetadataOptions {
  /** The authorization server's issuer URL; the registration endpoint defaults to `<issuer>/register`. */
  issuer: string;
  /** Where the registration handler is reached, when it is not `<issuer>/register`. */
  registrationEndpoint?: string;
  /**
   * Whether https `client_id`s naming a Client ID Metadata Document are
   * accepted (the registry's `clientIdMetadataDocuments` option). Default false.
   */
  clientIdMetadataDocumentSupported?: boolean;
  /**
   * Methods the token endpoint accepts. Default
   * `["client_secret_basic", "client_secret_post", "none"]`; list
   * `"private_key_jwt"` only when the token endpoint calls
   * `registry.authenticateAssertion`.
   */
  tokenEndpointAuthMethods?: readonly string[];
  /**
   * `alg` values accepted in `private_key_jwt` client assertions, advertised
   * when that method is listed. Default: the asymmetric algorithms
   * {@link DEFAULT_ASSERTION_SIGNING_ALGORITHMS}.
   */
  tokenEndpointAuthSigningAlgorithms?: readonly string[];
}

/** The RFC 8414 members {@link registrationMetadata} returns. */
export interface RegistrationServerMetadata {
  registration_endpoint: string;
  client_id_metadata_document_supported: boolean;
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
}

/**
 * Asymmetric JWS algorithms a `private_key_jwt` assertion may be signed
 * with (never `none` or an HMAC, whose key would be the public key).
 */
export const DEFAULT_ASSERTION_SIGNING_ALGORITHMS: readonly string[] = ASSERTION_ALGORITHMS;

const DEFAULT_METHODS: readonly string[] = ["client_secret_basic", "client_secret_post", "none"];

function absoluteUrl(value: string, name: string): URL {
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || url.protocol === "http:") return url;
  } catch {
    // reported below
  }
  throw new TypeError(`registrationMetadata: ${name} must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
}

/**
 * The registration members of RFC 8414 authorization server metadata, to
 * merge into the server's `/.well-known/oauth-authorization-server`
 * document: `registration_endpoint`, `client_id_metadata_document_supported`,
 * `token_endpoint_auth_methods_supported`, and, when `private_key_jwt` is
 * listed, `token_endpoint_auth_signing_alg_values_supported`.
 *
 * @example
 * ```ts
 * import { registrationMetadata } from "oauth-client-registry/registration";
 *
 * const metadata = {
 *   issuer: "https://auth.example.com",
 *   authorization_endpoint: "https://auth.example.com/authorize",
 *   token_endpoint: "https://auth.example.com/token",
 *   ...registrationMetadata({ issuer: "https://auth.example.com", clientIdMetadataDocumentSupported: true }),
 * };
 * metadata.registration_endpoint; // "https://auth.example.com/register"
 * ```
 */
export function registrationMetadata(options: RegistrationMetadataOptions): RegistrationServerMetadata {
  const issuer = absoluteUrl(options.issuer, "issuer");
  const endpoint =
    options.registrationEndpoint === undefined
      ? `${issuer.origin}${issuer.pathname.replace(/\/+$/, "")}/register`
      : absoluteUrl(options.registrationEndpoint, "registrationEndpoint").href;
  const methods = [...(options.tokenEndpointAuthMethods ?? DEFAULT_METHODS)];
  if (methods.length === 0 || methods.some((method) => typeof method !== "string" || method === "")) {
    throw new TypeError("registrationMetadata: tokenEndpointAuthMethods must be a non-empty list of method names");
  }
  const metadata: RegistrationServerMetadata = {
    registration_endpoint: endpoint,
    client_id_metadata_document_supported: options.clientIdMetadataDocumentSupported ?? false,
    token_endpoint_auth_methods_supported: methods,
  };
  if (methods.includes("private_key_jwt")) {
    metadata.token_endpoint_auth_signing_alg_values_supported = [
      ...(options.tokenEndpointAuthSigningAlgorithms ?? DEFAULT_ASSERTION_SIGNING_ALGORITHMS),
    ];
  }
  return metadata;
}
