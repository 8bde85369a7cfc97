/**
 * The `@node-oauth/oauth2-server` model of the example: clients come from the
 * registry, authorization codes and tokens live in memory.
 *
 * oauth2-server calls `getClient(id, secret)` at both endpoints and cannot
 * tell the model which one is asking, nor how the secret was presented. So
 * this file builds one model for /authorize (look the client up, no secret)
 * and one per token request (authenticate exactly as the client registered).
 */
import OAuth2Server from "@node-oauth/oauth2-server";
import {
  isRedirectUriAllowed,
  type OAuthClient,
  type OAuthClientRegistry,
  type TokenEndpointAuthMethod,
} from "../../src/index.js";

/** The user every authorization request is granted for; a real server asks its login session. */
export interface ExampleUser {
  id: string;
}

/** The client as oauth2-server sees it, with the registry's record kept for policy decisions. */
export interface ModelClient extends OAuth2Server.Client {
  id: string;
  grants: string[];
  redirectUris: string[];
  registered: OAuthClient;
}

/** Where authorization codes and tokens are kept. In memory here; a real server uses its database. */
export interface GrantStore {
  codes: Map<string, OAuth2Server.AuthorizationCode>;
  accessTokens: Map<string, OAuth2Server.Token>;
  refreshTokens: Map<string, OAuth2Server.RefreshToken>;
}

/**
 * An empty in-memory grant store.
 *
 * @example
 * const grants = createGrantStore();
 * grants.codes.size; // 0
 */
export function createGrantStore(): GrantStore {
  return { codes: new Map(), accessTokens: new Map(), refreshTokens: new Map() };
}

/** How the client authenticated at the token endpoint, read from the request (see server.ts). */
export type PresentedAuthMethod = TokenEndpointAuthMethod;

type Model = OAuth2Server.AuthorizationCodeModel & OAuth2Server.RefreshTokenModel;

function toModelClient(client: OAuthClient): ModelClient {
  return {
    id: client.client_id,
    grants: [...client.grant_types],
    redirectUris: [...client.redirect_uris],
    registered: client,
  };
}

function asModelClient(client: OAuth2Server.Client): ModelClient {
  return client as ModelClient;
}

/**
 * The model functions shared by both endpoints: codes, tokens, scopes and
 * redirect URI matching. `getClient` is supplied per endpoint.
 */
function sharedModel(grants: GrantStore): Omit<Model, "getClient"> {
  return {
    async saveAuthorizationCode(code, client, user) {
      // PKCE for every client (RFC 9700 §2.1.1): a code without a challenge is never issued.
      if (!code.codeChallenge || code.codeChallengeMethod !== "S256") {
        throw new OAuth2Server.InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256");
      }
      const saved: OAuth2Server.AuthorizationCode = { ...code, client, user };
      grants.codes.set(code.authorizationCode, saved);
      return saved;
    },
    async getAuthorizationCode(authorizationCode) {
      return grants.codes.get(authorizationCode);
    },
    async revokeAuthorizationCode(code) {
      return grants.codes.delete(code.authorizationCode);
    },
    async saveToken(token, client, user) {
      const saved: OAuth2Server.Token = { ...token, client, user };
      // A client registered without the refresh_token grant gets no refresh token.
      if (!asModelClient(client).grants.includes("refresh_token")) {
        delete saved.refreshToken;
        delete saved.refreshTokenExpiresAt;
      }
      grants.accessTokens.set(saved.accessToken, saved);
      if (saved.refreshToken) {
        grants.refreshTokens.set(saved.refreshToken, {
          refreshToken: saved.refreshToken,
          refreshTokenExpiresAt: saved.refreshTokenExpiresAt,
          scope: saved.scope,
          client,
          user,
        });
      }
      return saved;
    },
    async getAccessToken(accessToken) {
      return grants.accessTokens.get(accessToken);
    },
    async getRefreshToken(refreshToken) {
      return grants.refreshTokens.get(refreshToken);
    },
    async revokeToken(token) {
      return grants.refreshTokens.delete(token.refreshToken);
    },
    async validateScope(_user, client, scope) {
      const registered = asModelClient(client).registered.scopes;
      if (scope === undefined) return [...registered];
      return scope.every((s) => registered.includes(s)) ? scope : false;
    },
    async validateRedirectUri(redirectUri, client) {
      return isRedirectUriAllowed(asModelClient(client).registered, redirectUri);
    },
  };
}

/**
 * The two models of the example server.
 *
 * - `authorize`: `getClient(id)` looks the client up across accounts; no
 *   secret is involved at the authorization endpoint.
 * - `token(method)`: `getClient(id, secret)` authenticates with the registry
 *   (current secret, or the rotated one during its window) and accepts only
 *   the method the client registered: a confidential client that sends no
 *   secret is refused even when it sends a PKCE verifier.
 *
 * @example
 * const models = createModels(registry, createGrantStore());
 * const oauth = new OAuth2Server({ model: models.token("client_secret_basic") });
 */
export function createModels(
  registry: OAuthClientRegistry,
  grants: GrantStore,
): { authorize: Model; token: (presented: PresentedAuthMethod) => Model } {
  const shared = sharedModel(grants);
  return {
    authorize: {
      ...shared,
      async getClient(clientId) {
        const client = await registry.findClient(clientId);
        return client ? toModelClient(client) : false;
      },
    },
    token: (presented) => ({
      ...shared,
      async getClient(clientId, clientSecret) {
        if (presented === "none") {
          const client = await registry.findClient(clientId);
          return client && client.token_endpoint_auth_method === "none" ? toModelClient(client) : false;
        }
        const result = await registry.authenticate(clientId, clientSecret);
        // Basic and post carry the same secret, but the client registered one of them (RFC 7591 §2).
        if (!result || result.client.token_endpoint_auth_method !== presented) return false;
        return toModelClient(result.client);
      },
    }),
  };
}
