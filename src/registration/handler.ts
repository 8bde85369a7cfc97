/**
 * createRegistrationHandler — dynamic client registration over HTTP:
 * RFC 7591 `POST <path>` and RFC 7592 `GET | PUT | DELETE <path>/<client_id>`.
 * Like the management handler it only translates: request → embedder hooks
 * (rate limit, initial access token, account, policy) → metadata mapping →
 * one registry operation → RFC 7591 response or error. The registry owns
 * every rule and the registration access token.
 *
 * Like the management handler it works below the fetch signature, on an
 * `IncomingCall` and an `Answer`: the node:http bridge serves it straight
 * from node's request to node's response, without the `Request`, the body
 * stream and the `Response` that would otherwise cost more than the
 * registration itself; the fetch handler wraps the same code.
 */
import { OAuthClientError, type ValidationIssue } from "../model/errors.js";
import { parseJsonBody, type BodyProblem } from "../http/body.js";
import { CALL_HANDLER, fetchCall, type IncomingCall } from "../http/call.js";
import type { Answer } from "../http/envelope.js";
import { jsonResponse } from "../http/response.js";
import { accountIdIssue } from "../model/ids.js";
import { findPathProblem } from "../http/path.js";
import type { RegisteredClient } from "../registry/api.js";
import { validateRegistrationHandlerOptions } from "../model/options.js";
import {
  clientToMetadata,
  metadataToClientInput,
  registrationErrorCode,
  type ClientMetadataInput,
  type RegistrationErrorCode,
} from "../rules/metadata.js";
import {
  RegistrationPolicyError,
  type RegistrationHandlerOptions,
  type RegistrationPolicyContext,
  type RegistrationRegistry,
} from "./types.js";

/** Default of `maxBodyBytes`: room for a metadata document with a 16 KiB key set. */
export const DEFAULT_REGISTRATION_MAX_BODY_BYTES = 64 * 1024;

/** Longest bearer token looked at; registry tokens are far shorter, so a longer one is refused unread. */
const MAX_TOKEN_LENGTH = 1024;
/** Longest `secretLifetimeSeconds`: far beyond any real rotation policy, and far below the registry's year-9999 bound. */
const MAX_SECRET_LIFETIME_SECONDS = 100 * 365 * 86_400;
/** Issues spelled out in `error_description`; all of them are in `issues`. */
const DESCRIBED_ISSUES = 5;

const MANAGEMENT_METHODS: readonly string[] = ["GET", "PUT", "DELETE"];
type ManagementMethod = "GET" | "PUT" | "DELETE";

type ErrorCode = RegistrationErrorCode | "invalid_token" | "invalid_request" | "temporarily_unavailable" | "server_error";

/** An RFC 7591 error body, with every issue listed for the caller's developer. */
interface ErrorBody {
  error: ErrorCode;
  error_description: string;
  issues?: ValidationIssue[];
}

// RFC 7591 §3.1 / RFC 7592 §3: responses carry credentials and must not be cached.
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

/** An answer of this handler: a class, so that a step's refusal is told from the metadata it would otherwise return. */
class RegistrationAnswer implements Answer {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly body: string | null,
  ) {}
}

function json(status: number, body: object, headers: Record<string, string> = {}): RegistrationAnswer {
  return new RegistrationAnswer(status, { "content-type": "application/json", ...NO_STORE, ...headers }, JSON.stringify(body));
}

/**
 * RFC 6749 §5.2 limits error_description to printable ASCII without `"`
 * and `\`; messages are kept readable rather than escaped.
 */
function describe(text: string): string {
  const ascii = text.replace(/"/g, "'").replace(/\\/g, "/").replace(/[^\x20-\x7e]/g, "?");
  return ascii.length > 1000 ? `${ascii.slice(0, 999)}?` : ascii;
}

function error(status: number, code: ErrorCode, description: string, extra: { issues?: readonly ValidationIssue[]; headers?: Record<string, string> } = {}): RegistrationAnswer {
  const body: ErrorBody = { error: code, error_description: describe(description) };
  if (extra.issues !== undefined && extra.issues.length > 0) body.issues = [...extra.issues];
  return json(status, body, extra.headers);
}

/** 400 with the RFC 7591 code the issues call for, every issue listed. */
function refuse(issues: readonly ValidationIssue[], code: RegistrationErrorCode = registrationErrorCode(issues)): RegistrationAnswer {
  const shown = issues.slice(0, DESCRIBED_ISSUES).map((issue) => (issue.path === "" ? issue.message : `${issue.path.slice(1)}: ${issue.message}`));
  const more = issues.length > DESCRIBED_ISSUES ? ` (and ${issues.length - DESCRIBED_ISSUES} more, see issues)` : "";
  return error(400, code, `${shown.join("; ")}${more}`, { issues });
}

/** What the Authorization header holds: nothing, something that is not a bearer token, or a bearer token. */
type Credential = { kind: "none" } | { kind: "malformed" } | { kind: "bearer"; token: string };

/** The two tokens the endpoints take. */
type TokenName = "initial access token" | "registration access token";

/** 401 as RFC 6750 §3 words it: no error code when no credential was sent, `invalid_token` otherwise. */
function unauthorized(credential: Credential, what: TokenName): RegistrationAnswer {
  if (credential.kind === "none") {
    return error(401, "invalid_token", `send a valid ${what} as Authorization: Bearer <token>`, {
      headers: { "www-authenticate": "Bearer" },
    });
  }
  const problem = credential.kind === "malformed" ? "the Authorization header is not a bearer token" : `the ${what} is not valid for this request`;
  return error(401, "invalid_token", problem, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
}

/** The Authorization header as a bearer token (RFC 6750 §2.1); an over-long token is malformed, refused unread. */
function credentialOf(call: IncomingCall): Credential {
  const header = call.header("authorization");
  if (header === null) return { kind: "none" };
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match && match[1]!.length <= MAX_TOKEN_LENGTH ? { kind: "bearer", token: match[1]! } : { kind: "malformed" };
}

/** Registry issue paths in RFC 7591 member names: `scopes` is `scope` on the wire. */
function toMetadataIssues(issues: readonly ValidationIssue[], input: ClientMetadataInput): ValidationIssue[] {
  return issues.map((issue) => {
    const scope = /^\/scopes(?:\/(\d+))?(\/.*)?$/.exec(issue.path);
    if (!scope) return issue;
    const token = scope[1] === undefined ? undefined : input.scopes[Number(scope[1])];
    const which = typeof token === "string" ? `scope ${JSON.stringify(token.length > 64 ? `${token.slice(0, 64)}…` : token)}: ` : "";
    return { path: "/scope", message: `${which}${issue.message}` };
  });
}

function bodyRefusal(problem: BodyProblem): RegistrationAnswer {
  switch (problem.kind) {
    case "payload_too_large":
      return error(413, "invalid_request", `the request body exceeds ${problem.limit} bytes`);
    case "unsupported_media_type":
      return error(415, "invalid_request", "client metadata must be sent as Content-Type: application/json");
    case "malformed_json":
      return error(400, "invalid_client_metadata", problem.message);
    case "duplicate_keys": {
      const issues = problem.pointers.map((path) => ({ path, message: "duplicate member name: each name may appear only once in an object" }));
      if (problem.more > 0) issues.push({ path: "", message: `and ${problem.more} more duplicate member names` });
      // A repeated name is a problem of the JSON text, whichever member it is.
      return refuse(issues, "invalid_client_metadata");
    }
  }
}

function normalizePath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, "");
  if (!trimmed.startsWith("/") || findPathProblem(trimmed) !== null || /[?#]/.test(trimmed)) {
    throw new TypeError(`createRegistrationHandler: path must be an absolute URL path such as "/register", got ${JSON.stringify(path)}`);
  }
  return trimmed;
}

function normalizeBaseUrl(baseUrl: string | undefined): string | undefined {
  if (baseUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`createRegistrationHandler: baseUrl must be an absolute URL, got ${JSON.stringify(baseUrl)}`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "" || url.hash !== "") {
    throw new TypeError("createRegistrationHandler: baseUrl must be an http(s) URL without query or fragment");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`createRegistrationHandler: ${name} must be a positive integer`);
  return value;
}

/**
 * Dynamic client registration as a Fetch handler: RFC 7591 `POST <path>`
 * answers 201 with the client information (`client_id`, `client_secret`
 * for secret methods, `client_id_issued_at`, `client_secret_expires_at`,
 * `registration_access_token`, `registration_client_uri`); RFC 7592
 * `GET`, `PUT` and `DELETE` at `<path>/<client_id>` read, replace and
 * delete the registration with `Authorization: Bearer <registration access
 * token>` (401 without a valid one; `PUT` rotates the token). Refusals are
 * RFC 7591 error bodies (`invalid_redirect_uri`, `invalid_client_metadata`,
 * …) listing every issue; every response is `Cache-Control: no-store`.
 * Registration policy is the embedder's: `initialAccessToken`, `policy`,
 * `rateLimit` (e.g. `createStoreRateLimiter`, shared by every process on
 * the database), `clientLimit` (`createRegistrationClientLimit`), and the
 * account (`accountId` or `resolveAccount`). All are off unless given;
 * `scheduleIdlePurge` removes idle registrations.
 *
 * @example
 * ```ts
 * import { createRegistrationHandler } from "oauth-client-registry/registration";
 *
 * const register = createRegistrationHandler(registry, {
 *   accountId: "registered",
 *   baseUrl: "https://auth.example.com",
 *   policy: (metadata) => ({ ...metadata, token_endpoint_auth_method: "none" }),
 * });
 * const response = await register(request); // POST /register, or GET/PUT/DELETE /register/<client_id>
 * // Hono: app.all("/register/*", (c) => register(c.req.raw)); app.post("/register", (c) => register(c.req.raw));
 * ```
 */
export function createRegistrationHandler(
  registry: RegistrationRegistry,
  options: RegistrationHandlerOptions,
): (request: Request) => Promise<Response> {
  validateRegistrationHandlerOptions(options);
  const { accountId, resolveAccount, initialAccessToken, policy, rateLimit, clientLimit } = options;
  const cors = options.cors === true;
  if ((accountId === undefined) === (resolveAccount === undefined)) {
    throw new TypeError("createRegistrationHandler: set exactly one of accountId and resolveAccount");
  }
  const accountProblem = accountId === undefined ? null : accountIdIssue(accountId);
  if (accountProblem !== null) throw new TypeError(`createRegistrationHandler: accountId: ${accountProblem.message}`);
  const path = normalizePath(options.path ?? "/register");
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const maxBodyBytes = positiveInteger(options.maxBodyBytes, "maxBodyBytes", DEFAULT_REGISTRATION_MAX_BODY_BYTES);
  const retryAfter = positiveInteger(options.rateLimitRetryAfterSeconds, "rateLimitRetryAfterSeconds", 60);
  const secretLifetime = options.secretLifetimeSeconds === undefined ? undefined : positiveInteger(options.secretLifetimeSeconds, "secretLifetimeSeconds", 0);
  if (secretLifetime !== undefined && secretLifetime > MAX_SECRET_LIFETIME_SECONDS) {
    throw new TypeError(`createRegistrationHandler: secretLifetimeSeconds must be at most ${MAX_SECRET_LIFETIME_SECONDS} (100 years)`);
  }
  const now = options.now ?? (() => new Date());
  const onError =
    options.onError ??
    ((failure: unknown) => {
      console.error("oauth-client-registry: internal error while handling a registration request", failure);
    });
  const report = (failure: unknown, request: Request) => {
    try {
      onError(failure, request);
    } catch {
      // A failing logger must not turn into an unhandled rejection.
    }
  };

  const clientUri = (call: IncomingCall, clientId: string) =>
    `${baseUrl ?? new URL(call.request().url).origin}${path}/${encodeURIComponent(clientId)}`;

  /** The RFC 7591 client information response of a registration or update. */
  function information(call: IncomingCall, result: RegisteredClient, status: number): RegistrationAnswer {
    const body = clientToMetadata(result.client, {
      client_secret: result.client_secret,
      registration_access_token: result.registration_access_token,
      registration_client_uri: clientUri(call, result.client.client_id),
    });
    return json(status, body);
  }

  /** The body as client metadata, or the refusal to answer with. */
  async function readMetadata(call: IncomingCall): Promise<Record<string, unknown> | RegistrationAnswer> {
    const read = await parseJsonBody(() => call.readBody(maxBodyBytes), () => call.header("content-type"), maxBodyBytes);
    if (!read.ok) return bodyRefusal(read.problem);
    if (read.empty) return refuse([{ path: "", message: "a JSON object of client metadata is required" }]);
    if (typeof read.value !== "object" || read.value === null || Array.isArray(read.value)) {
      return refuse([{ path: "", message: "client metadata must be a JSON object" }]);
    }
    return read.value as Record<string, unknown>;
  }

  /** Maps and applies the policy; an answer when the metadata is refused. */
  async function prepare(
    metadata: Record<string, unknown>,
    context: RegistrationPolicyContext,
  ): Promise<ClientMetadataInput | RegistrationAnswer> {
    const mapped = metadataToClientInput(metadata, { source: "dcr", clientId: context.clientId ?? undefined });
    if (mapped.issues.length > 0) return refuse(mapped.issues);
    if (!policy) return mapped.input;
    try {
      const decided = await policy(mapped.input, context);
      if (typeof decided !== "object" || decided === null) {
        throw new TypeError("the registration policy must return the metadata to register (an object) or throw RegistrationPolicyError");
      }
      return decided;
    } catch (failure) {
      if (failure instanceof RegistrationPolicyError) return error(400, failure.code, failure.message);
      throw failure;
    }
  }

  /** A registry call's validation refusal, in RFC 7591 terms; other errors propagate. */
  async function registryCall<T>(input: ClientMetadataInput, call: () => Promise<T>): Promise<T | RegistrationAnswer> {
    try {
      return await call();
    } catch (failure) {
      if (failure instanceof OAuthClientError && failure.status === 400) {
        const issues = failure.issues.length > 0 ? failure.issues : [{ path: "", message: failure.message }];
        return refuse(toMetadataIssues(issues, input));
      }
      throw failure;
    }
  }

  async function register(call: IncomingCall): Promise<RegistrationAnswer> {
    if (initialAccessToken) {
      const credential = credentialOf(call);
      if (credential.kind === "malformed") return unauthorized(credential, "initial access token");
      const allowed = await initialAccessToken(credential.kind === "bearer" ? credential.token : null, call.request());
      if (allowed !== true) return unauthorized(credential, "initial access token");
    }
    const metadata = await readMetadata(call);
    if (metadata instanceof RegistrationAnswer) return metadata;
    const account = accountId ?? (await resolveAccount!(call.request()));
    // A bad account id is the embedder's bug, not the client's metadata: a 500, reported.
    const accountProblem = accountIdIssue(account);
    if (accountProblem !== null) throw new TypeError(`resolveAccount returned an unusable account id: ${accountProblem.message}`);
    if (clientLimit !== undefined && !(await clientLimit.reserve(account))) {
      return error(
        429,
        "invalid_request",
        `this server holds its maximum of ${clientLimit.maxClients} registered clients; registration reopens when unused clients are removed`,
        { headers: { "retry-after": String(retryAfter) } },
      );
    }
    let stored = false;
    try {
      const input = await prepare(metadata, { operation: "register", accountId: account, clientId: null, metadata, request: call.request() });
      if (input instanceof RegistrationAnswer) return input;
      const secretExpiresAt = secretLifetime === undefined ? 0 : Math.floor(now().getTime() / 1000) + secretLifetime;
      const result = await registryCall(input, () => registry.registerClient(account, input, { secretExpiresAt }));
      if (result instanceof RegistrationAnswer) return result;
      stored = true;
      return information(call, result, 201);
    } finally {
      clientLimit?.settle(account, stored);
    }
  }

  async function manage(call: IncomingCall, clientId: string): Promise<RegistrationAnswer> {
    const credential = credentialOf(call);
    if (credential.kind !== "bearer") return unauthorized(credential, "registration access token");
    const token = credential.token;
    switch (call.method as ManagementMethod) {
      case "GET": {
        const found = await registry.readRegistration(clientId, token);
        if (found === null) return unauthorized(credential, "registration access token");
        // RFC 7592 §3 lists the token in every response; the caller just proved it holds it.
        const body = clientToMetadata(found.client, { registration_access_token: token, registration_client_uri: clientUri(call, clientId) });
        return json(200, body);
      }
      case "DELETE": {
        const deleted = await registry.deleteRegistration(clientId, token);
        return deleted ? new RegistrationAnswer(204, { ...NO_STORE }, null) : unauthorized(credential, "registration access token");
      }
      case "PUT": {
        // The token is checked before the body is looked at: without it, nothing
        // about the client (not even whether a secret matches) is revealed.
        const current = await registry.readRegistration(clientId, token);
        if (current === null) return unauthorized(credential, "registration access token");
        const metadata = await readMetadata(call);
        if (metadata instanceof RegistrationAnswer) return metadata;
        const secret = metadata.client_secret;
        if (secret !== undefined && secret !== null) {
          const matched = typeof secret === "string" && secret !== "" ? await registry.authenticate(clientId, secret) : null;
          if (matched?.client.client_id !== clientId) {
            return refuse([{ path: "/client_secret", message: "must be the secret issued to this client (or be left out): a client cannot choose its secret" }]);
          }
        }
        const input = await prepare(metadata, { operation: "update", accountId: current.account_id, clientId, metadata, request: call.request() });
        if (input instanceof RegistrationAnswer) return input;
        const result = await registryCall(input, () => registry.updateRegistration(clientId, token, input));
        if (result instanceof RegistrationAnswer) return result;
        return result === null ? unauthorized(credential, "registration access token") : information(call, result, 200);
      }
    }
  }

  async function handle(call: IncomingCall): Promise<RegistrationAnswer> {
    const { pathname, method } = call;
    const unsafe = findPathProblem(pathname);
    if (unsafe !== null) return error(400, "invalid_request", unsafe);
    let rest = pathname === path || pathname === `${path}/` ? "" : null;
    if (rest === null && pathname.startsWith(`${path}/`)) rest = pathname.slice(path.length + 1);
    if (rest === null || rest.includes("/")) return error(404, "invalid_request", `no registration endpoint at ${clip(pathname)}`);
    let clientId: string | null = null;
    if (rest !== "") {
      try {
        clientId = decodeURIComponent(rest);
      } catch {
        return error(404, "invalid_request", "the client id in the path is not valid percent-encoding");
      }
    }
    const allowed = clientId === null ? ["POST"] : MANAGEMENT_METHODS;
    if (cors && method === "OPTIONS") return preflight(allowed);
    if (!allowed.includes(method)) {
      return error(405, "invalid_request", `${clip(method)} is not allowed on ${clip(pathname)}`, { headers: { allow: allowed.join(", ") } });
    }
    if (rateLimit && (await rateLimit(call.request())) !== true) {
      return error(429, "invalid_request", "too many registration requests; retry later", { headers: { "retry-after": String(retryAfter) } });
    }
    return clientId === null ? register(call) : manage(call, clientId);
  }

  /** The handler's entry point below the fetch signature, which the node:http bridge calls directly. */
  async function handleCall(call: IncomingCall): Promise<Answer> {
    const answer = await respond(call);
    if (cors) {
      answer.headers["access-control-allow-origin"] = "*";
      answer.headers["access-control-expose-headers"] = "WWW-Authenticate, Retry-After";
    }
    return answer;
  }

  const handleRegistration = async (request: Request): Promise<Response> => {
    const answer = await handleCall(fetchCall(request));
    return jsonResponse(answer.body, answer.status, answer.headers);
  };
  Object.defineProperty(handleRegistration, CALL_HANDLER, { value: handleCall });
  return handleRegistration;

  async function respond(call: IncomingCall): Promise<RegistrationAnswer> {
    try {
      return await handle(call);
    } catch (failure) {
      if (failure instanceof OAuthClientError && failure.status === 503) {
        const seconds = "retryAfterSeconds" in failure && typeof failure.retryAfterSeconds === "number" ? failure.retryAfterSeconds : 1;
        return error(503, "temporarily_unavailable", failure.message, { headers: { "retry-after": String(seconds) } });
      }
      if (failure instanceof OAuthClientError && failure.expose && failure.status < 500) {
        return error(failure.status, "invalid_request", failure.message);
      }
      report(failure, call.request());
      return error(500, "server_error", "internal server error");
    }
  }
}

/** The answer to a CORS preflight: the methods of the path, and the two request headers the endpoints read. */
function preflight(methods: readonly string[]): RegistrationAnswer {
  return new RegistrationAnswer(
    204,
    {
      ...NO_STORE,
      "access-control-allow-methods": methods.join(", "),
      "access-control-allow-headers": "Authorization, Content-Type",
      "access-control-max-age": "600",
    },
    null,
  );
}

/** Caller-supplied text echoed in a message is kept short. */
function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
