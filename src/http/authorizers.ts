/**
 * Ready-made `authorize` callbacks for {@link createFetchHandler}, for hosts
 * that have no identity system of their own to ask.
 */
import { defaultSecretHasher } from "../secrets.js";
import { UnauthorizedError } from "./errors.js";
import type { Authorize } from "./handler.js";

/**
 * An `authorize` callback that accepts exactly one bearer token, for every
 * account and permission, and answers 401 to anything else. The token is
 * compared as a hash in constant time (both sides hashed first, so lengths
 * never differ and timing tells nothing about the token).
 *
 * @example
 * import { bearerTokenAuthorize, createFetchHandler } from "oauth-client-registry/http";
 *
 * const handler = createFetchHandler(registry, {
 *   authorize: bearerTokenAuthorize(process.env.OAUTH_REGISTRY_API_TOKEN!),
 * });
 */
export function bearerTokenAuthorize(token: string): Authorize {
  if (typeof token !== "string" || token === "") {
    throw new TypeError("bearerTokenAuthorize: the token must be a non-empty string");
  }
  // Hashed once, with the hasher of client secrets; a request's token is hashed the same way.
  const expected = Promise.resolve(defaultSecretHasher.hash(token));
  return async (request) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    const valid = await defaultSecretHasher.verify(match?.[1] ?? "", await expected);
    if (!match || !valid) throw new UnauthorizedError("a valid bearer token is required");
    return true;
  };
}
