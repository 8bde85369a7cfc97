/**
 * A Cloudflare Worker serving oauth-client-registry over D1:
 *
 * - `/client/v4/…`: the OAuth Clients API, wire-compatible with Cloudflare's
 *   v4 API (the `cloudflare` SDK, Terraform-style tools and curl work
 *   unchanged), guarded by one bearer token from the `API_TOKEN` secret;
 * - `POST /register`, `GET|PUT|DELETE /register/<client_id>`: dynamic client
 *   registration (RFC 7591) and its management (RFC 7592), open to anyone;
 * - `/.well-known/oauth-authorization-server`: the RFC 8414 members that
 *   advertise registration, for clients that discover it.
 *
 * The schema comes from the package's `migrations/d1/*.sql`, applied with
 * `wrangler d1 migrations apply` (see wrangler.jsonc), so no request pays
 * for a migration.
 */
import { createOAuthClientRegistry } from "oauth-client-registry";
import { createD1Store } from "oauth-client-registry/d1";
import { bearerTokenAuthorize, createFetchHandler } from "oauth-client-registry/http";
import { createRegistrationHandler, registrationMetadata } from "oauth-client-registry/registration";

export interface Env {
  /** The D1 database of wrangler.jsonc's `d1_databases`. */
  DB: D1Database;
  /** Bearer token of the management API: `wrangler secret put API_TOKEN` (`.dev.vars` under `wrangler dev`). */
  API_TOKEN?: string;
  /** The public URL of this Worker, with no trailing slash: the issuer and the base of `registration_client_uri`. */
  ISSUER: string;
  /** The account that dynamically registered clients land in. */
  REGISTRATION_ACCOUNT: string;
}

type Handler = (request: Request) => Promise<Response>;

/** The handlers of one isolate: bindings do not change while it lives, so they are built once. */
let handlers: { env: Env; management: Handler; registration: Handler } | undefined;

function handlersFor(env: Env) {
  if (handlers?.env === env) return handlers;
  if (!env.API_TOKEN) {
    // Refusing to start beats serving an API nobody can be authorized for.
    throw new Error("the API_TOKEN secret is not set: `wrangler secret put API_TOKEN`, or API_TOKEN=… in .dev.vars for `wrangler dev`");
  }
  const registry = createOAuthClientRegistry(createD1Store(env.DB));
  handlers = {
    env,
    management: createFetchHandler(registry, { authorize: bearerTokenAuthorize(env.API_TOKEN) }),
    // registration_client_uri is built on the configured issuer, never on the request's Host header.
    registration: createRegistrationHandler(registry, { accountId: env.REGISTRATION_ACCOUNT, baseUrl: env.ISSUER }),
  };
  return handlers;
}

export default {
  async fetch(request, env): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/.well-known/oauth-authorization-server") {
      // Only the members this Worker serves: the authorization and token
      // endpoints are the authorization server's own, which merges these in.
      return Response.json({ issuer: env.ISSUER, response_types_supported: ["code"], ...registrationMetadata({ issuer: env.ISSUER }) });
    }
    const { management, registration } = handlersFor(env);
    if (pathname === "/register" || pathname.startsWith("/register/")) return registration(request);
    return management(request);
  },
} satisfies ExportedHandler<Env>;
