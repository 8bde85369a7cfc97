/**
 * The part of oidc-provider (a devDependency of the bench, shipped without
 * types) that bench/registration-server.ts uses.
 */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** An OpenID Provider; only what the registration row needs. */
  export default class Provider {
    constructor(issuer: string, configuration?: Record<string, unknown>);
    /** The provider as a node:http request listener. */
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }
}
