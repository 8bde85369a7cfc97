/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas
 * and the route table — never written by hand. `npm run openapi` writes it
 * to docs/openapi.json; the handler serves it at `{basePath}/openapi.json`.
 */
import * as z from "zod";
import {
  createClientInputSchema,
  createdOAuthClientSchema,
  oauthClientSchema,
  updateClientInputSchema,
} from "../fields.js";
import { HTTP_ERROR_CODES, type HttpErrorKind } from "./codes.js";
import {
  apiMessageSchema,
  errorEnvelopeSchema,
  listEnvelopeSchema,
  resultInfoSchema,
  successEnvelopeSchema,
} from "./envelope.js";
import { ROUTES, type Operation, type OperationName } from "./routes.js";
import { deletedResourceSchema, oauthScopeSchema, rotatedSecretSchema } from "./schemas.js";
import { MAX_IDLE_SECONDS, purgeInputSchema, purgeResultSchema, rotateSecretInputSchema } from "./extensions.js";
import { MAX_PURGE_BATCH } from "../registry/lifecycle.js";

/** Options of {@link generateOpenApiDocument}. */
export interface OpenApiOptions {
  /** Path prefix of every route, used as the server URL. Default `"/client/v4"`. */
  basePath?: string;
}

/** A JSON value, as the generated document is made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An OpenAPI 3.1 document. */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, JsonValue>>;
  components: Record<string, JsonValue>;
  security: Record<string, string[]>[];
  [extension: `x-${string}`]: JsonValue;
}

/** Version of the wire format the document describes (Cloudflare API v4). */
const API_VERSION = "v4";

/** Named component schemas; operations refer to them with $ref. */
function componentRegistry() {
  const registry = z.registry<{ id: string }>();
  const add = (schema: z.ZodType, id: string) => registry.add(schema, { id });
  add(oauthClientSchema, "OAuthClient");
  add(createdOAuthClientSchema, "CreatedOAuthClient");
  add(createClientInputSchema, "CreateClientInput");
  add(updateClientInputSchema, "UpdateClientInput");
  add(deletedResourceSchema, "DeletedResource");
  add(rotatedSecretSchema, "RotatedSecret");
  add(oauthScopeSchema, "OAuthScope");
  add(rotateSecretInputSchema, "RotateSecretInput");
  add(purgeInputSchema, "PurgeInput");
  add(purgeResultSchema, "PurgeResult");
  add(apiMessageSchema, "ApiMessage");
  add(resultInfoSchema, "ResultInfo");
  add(errorEnvelopeSchema, "ErrorEnvelope");
  add(listEnvelopeSchema(oauthClientSchema), "OAuthClientListEnvelope");
  add(successEnvelopeSchema(oauthClientSchema), "OAuthClientEnvelope");
  add(successEnvelopeSchema(createdOAuthClientSchema), "CreatedOAuthClientEnvelope");
  add(successEnvelopeSchema(deletedResourceSchema), "DeletedResourceEnvelope");
  add(successEnvelopeSchema(rotatedSecretSchema), "RotatedSecretEnvelope");
  add(listEnvelopeSchema(oauthScopeSchema), "OAuthScopeListEnvelope");
  add(successEnvelopeSchema(purgeResultSchema), "PurgeResultEnvelope");
  return registry;
}

function componentSchemas(): Record<string, JsonValue> {
  // "input" keeps plain objects open (no additionalProperties: false), so
  // clients tolerate fields added later, while strict input bodies stay closed.
  const generated = z.toJSONSchema(componentRegistry(), {
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Record<string, JsonValue>> };
  const out: Record<string, JsonValue> = {};
  for (const id of Object.keys(generated.schemas).sort()) {
    // Per-schema $schema/$id are noise inside an OpenAPI 3.1 document.
    const { $schema: _schema, $id: _id, ...schema } = generated.schemas[id]!;
    out[id] = schema;
  }
  return out;
}

const ref = (id: string): JsonValue => ({ $ref: `#/components/schemas/${id}` });
const jsonContent = (schemaId: string): JsonValue => ({ "application/json": { schema: ref(schemaId) } });

interface OperationDoc {
  summary: string;
  description: string;
  result: string;
  requestBody?: string;
  /** The request body may be left out (an extension's body on a Cloudflare route). */
  requestBodyOptional?: boolean;
  errors: HttpErrorKind[];
  /** Not part of Cloudflare's v4 API: marked `x-extension: true`. */
  extension?: boolean;
}

const CLIENT_ERRORS: HttpErrorKind[] = ["unauthorized", "forbidden", "not_found"];

const OPERATION_DOCS: Record<OperationName, OperationDoc> = {
  listClients: {
    summary: "List OAuth clients",
    description:
      "Without query parameters, returns every client of the account. With per_page or cursor, returns one page; result_info.cursor fetches the next one.",
    result: "OAuthClientListEnvelope",
    errors: ["invalid_parameter", "unauthorized", "forbidden"],
  },
  createClient: {
    summary: "Create an OAuth client",
    description: "The response is the only one that contains client_secret (absent for token_endpoint_auth_method none).",
    result: "CreatedOAuthClientEnvelope",
    requestBody: "CreateClientInput",
    errors: ["validation_failed", "malformed_json", "unsupported_media_type", "payload_too_large", "unauthorized", "forbidden"],
  },
  getClient: {
    summary: "Get an OAuth client",
    description: "A client of another account answers 404.",
    result: "OAuthClientEnvelope",
    errors: CLIENT_ERRORS,
  },
  updateClient: {
    summary: "Update an OAuth client",
    description: "Only the fields sent change; the rules run on the merged client. visibility public promotes the client.",
    result: "OAuthClientEnvelope",
    requestBody: "UpdateClientInput",
    errors: [
      "validation_failed",
      "malformed_json",
      "unsupported_media_type",
      "payload_too_large",
      ...CLIENT_ERRORS,
      "concurrent_modification",
    ],
  },
  deleteClient: {
    summary: "Delete an OAuth client",
    description: "Takes no body.",
    result: "DeletedResourceEnvelope",
    errors: CLIENT_ERRORS,
  },
  rotateSecret: {
    summary: "Rotate the client secret",
    description:
      "Makes a new current secret; the previous one becomes the rotated secret and keeps authenticating until it is deleted. Refused with 409 while a rotated secret exists, and with 400 for clients without a secret. Cloudflare's API takes no body, and none is needed; the optional body { grace_period_seconds } is an extension that ends the previous secret after that many seconds (the client's rotated_secret_expires_at).",
    result: "RotatedSecretEnvelope",
    requestBody: "RotateSecretInput",
    requestBodyOptional: true,
    errors: ["validation_failed", "malformed_json", "unsupported_media_type", "payload_too_large", ...CLIENT_ERRORS, "rotated_secret_exists"],
  },
  deleteRotatedSecret: {
    summary: "Delete the rotated secret",
    description: "Ends the rotation window. 404 when the client has no rotated secret. Takes no body.",
    result: "DeletedResourceEnvelope",
    errors: CLIENT_ERRORS,
  },
  verifyClientUri: {
    summary: "Check the client_uri TXT record now",
    description:
      "Extension, not part of Cloudflare's v4 API. Looks up the DNS TXT records of the client_uri host and answers the client with client_uri_verification verified (a record equals client_uri_verification.text) or failed; a verified client is answered as it is, without a lookup. A failed check ends background checking until client_uri is sent again. 400 (validation_failed at /client_uri) for a client without client_uri. Takes no body.",
    result: "OAuthClientEnvelope",
    errors: ["validation_failed", ...CLIENT_ERRORS, "concurrent_modification"],
    extension: true,
  },
  previewPurge: {
    summary: "Preview a purge of idle clients",
    description: `Extension, not part of Cloudflare's v4 API. Lists, without deleting anything, the clients that POST …/oauth_clients_purge with the same idle_for_seconds and sources would delete: one batch of at most per_page (1 to ${MAX_PURGE_BATCH}, the default), reading at most maxFilterScan clients, so a page may hold fewer than per_page; result_info.cursor continues.`,
    result: "OAuthClientListEnvelope",
    errors: ["invalid_parameter", "unauthorized", "forbidden"],
    extension: true,
  },
  purgeClients: {
    summary: "Purge idle clients",
    description: `Extension, not part of Cloudflare's v4 API. Deletes, in one bounded batch (at most limit deletions, reading at most maxFilterScan clients), the clients of sources (default dcr and cimd) whose last use, or creation when never used, is at least idle_for_seconds ago. Each delete is conditional on the version read, so a client used meanwhile is kept. Send next_cursor back as cursor until it is null.`,
    result: "PurgeResultEnvelope",
    requestBody: "PurgeInput",
    errors: ["validation_failed", "malformed_json", "unsupported_media_type", "payload_too_large", "unauthorized", "forbidden"],
    extension: true,
  },
  listScopes: {
    summary: "List the API scopes clients may request",
    description: "The scope catalog of the registry; empty when any well-formed dotted scope is accepted. Needs authentication but no account permission.",
    result: "OAuthScopeListEnvelope",
    errors: ["unauthorized", "forbidden"],
  },
  openApiDocument: {
    summary: "This OpenAPI document",
    description: "Served without authentication.",
    result: "",
    errors: [],
  },
};

const PATH_PARAMETER_DOCS: Record<string, string> = {
  account_id: "Account (tenant) identifier; an opaque string.",
  oauth_client_id: "The client_id of the OAuth client.",
};

function operationObject(operation: Operation, pathParams: string[]): JsonValue {
  const doc = OPERATION_DOCS[operation.name];
  const parameters: JsonValue[] = pathParams.map((name) => ({
    name,
    in: "path",
    required: true,
    description: PATH_PARAMETER_DOCS[name] ?? name,
    schema: { type: "string", minLength: 1 },
  }));
  if (operation.name === "listClients") {
    parameters.push(
      {
        name: "per_page",
        in: "query",
        required: false,
        description: "Page size (1 to the registry's maxPageSize, 100 by default). Turns on pagination.",
        schema: { type: "integer", minimum: 1 },
      },
      {
        name: "cursor",
        in: "query",
        required: false,
        description: "result_info.cursor of the previous page. Turns on pagination.",
        schema: { type: "string" },
      },
      {
        name: "source",
        in: "query",
        required: false,
        description:
          "Only clients of these sources, comma-separated: api, import, dcr, cimd. With a filter, one page reads at most maxFilterScan clients and may hold fewer than per_page.",
        schema: { type: "string" },
      },
      {
        name: "used_before",
        in: "query",
        required: false,
        description: "Only clients not used since this RFC 3339 time (never-used clients included unless never_used=false).",
        schema: { type: "string", format: "date-time" },
      },
      {
        name: "never_used",
        in: "query",
        required: false,
        description: "true: only clients never used; false: only clients used at least once.",
        schema: { type: "boolean" },
      },
    );
  }
  if (operation.name === "previewPurge") {
    parameters.push(
      {
        name: "idle_for_seconds",
        in: "query",
        required: true,
        description: "Clients whose last use (or, never used, creation) is at least this many seconds ago.",
        schema: { type: "integer", minimum: 0, maximum: MAX_IDLE_SECONDS },
      },
      {
        name: "source",
        in: "query",
        required: false,
        description: "Sources purged, comma-separated: api, import, dcr, cimd. Default dcr,cimd.",
        schema: { type: "string" },
      },
      {
        name: "per_page",
        in: "query",
        required: false,
        description: `Most clients listed, 1 to ${MAX_PURGE_BATCH} (the default): the size of one purge batch.`,
        schema: { type: "integer", minimum: 1, maximum: MAX_PURGE_BATCH },
      },
      { name: "cursor", in: "query", required: false, description: "result_info.cursor of the previous page.", schema: { type: "string" } },
    );
  }
  if (operation.conditional) {
    parameters.push({
      name: "If-Match",
      in: "header",
      required: false,
      description: "ETag of the client as last read; when it is no longer current the call answers 412 and changes nothing. `*` matches any version.",
      schema: { type: "string" },
    });
  }
  const responses: Record<string, JsonValue> = {};
  if (operation.name === "openApiDocument") {
    responses["200"] = { description: "The OpenAPI document.", content: { "application/json": { schema: { type: "object" } } } };
  } else {
    const headers: Record<string, JsonValue> = {};
    if (operation.returnsSecret) {
      headers["Cache-Control"] = { description: "Always no-store: the body contains a secret.", schema: { type: "string", const: "no-store" } };
    }
    if (operation.returnsClient) {
      headers.ETag = { description: "Version of the client, for If-Match on later writes.", schema: { type: "string" } };
    }
    responses["200"] = {
      description: "Success.",
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: jsonContent(doc.result),
    };
  }
  const byStatus = new Map<number, HttpErrorKind[]>();
  const always: HttpErrorKind[] = operation.name === "openApiDocument" ? ["internal_error"] : ["storage_unavailable", "internal_error"];
  const conditional: HttpErrorKind[] = operation.conditional ? ["precondition_failed"] : [];
  for (const kind of [...doc.errors, ...conditional, ...always]) {
    const status = HTTP_ERROR_CODES[kind].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), kind]);
  }
  for (const [status, kinds] of [...byStatus].sort(([a], [b]) => a - b)) {
    const codes = kinds.map((k) => `${HTTP_ERROR_CODES[k].code} (${k})`).join(", ");
    responses[String(status)] = {
      description: `Error codes: ${codes}.`,
      ...(status === 409
        ? { headers: { "x-should-retry": { description: "Always false: retrying replays the conflict.", schema: { type: "string", const: "false" } } } }
        : {}),
      ...(status === 503
        ? {
            headers: {
              "x-should-retry": { description: "Always true: the same request succeeds once the database is back.", schema: { type: "string", const: "true" } },
              "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "integer" } },
            },
          }
        : {}),
      content: jsonContent("ErrorEnvelope"),
    };
  }
  const object: Record<string, JsonValue> = {
    operationId: operation.name,
    summary: doc.summary,
    description: doc.description,
    tags: [operation.name === "listScopes" || operation.name === "openApiDocument" ? "meta" : "oauth-clients"],
  };
  if (doc.extension === true) object["x-extension"] = true;
  if (operation.permission !== null) object["x-permission"] = operation.permission;
  else object.security = [];
  if (parameters.length > 0) object.parameters = parameters;
  if (doc.requestBody) object.requestBody = { required: doc.requestBodyOptional !== true, content: jsonContent(doc.requestBody) };
  object.responses = responses;
  return object;
}

/**
 * Builds the OpenAPI 3.1 document of the HTTP API.
 *
 * @example
 * ```ts
 * import { generateOpenApiDocument } from "oauth-client-registry/http";
 * const doc = generateOpenApiDocument({ basePath: "/api" });
 * doc.paths["/accounts/{account_id}/oauth_clients"]; // { get: …, post: … }
 * ```
 */
export function generateOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const basePath = normalizeBasePath(options.basePath ?? "/client/v4");
  const paths: Record<string, Record<string, JsonValue>> = {};
  for (const route of ROUTES) {
    const path = `/${route.template.join("/")}`;
    const pathParams = route.template.filter((p) => p.startsWith("{")).map((p) => p.slice(1, -1));
    const item: Record<string, JsonValue> = {};
    for (const operation of route.operations) item[operation.method.toLowerCase()] = operationObject(operation, pathParams);
    paths[path] = item;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "OAuth Client Registry API",
      version: API_VERSION,
      description:
        "Manage the OAuth 2.0 clients of an authorization server. Wire-compatible with the Cloudflare v4 OAuth Clients API: every response uses the { success, errors, messages, result } envelope. How callers authenticate is decided by the host application; bearer tokens are the common case.",
    },
    servers: [{ url: basePath === "" ? "/" : basePath }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
    },
    "x-error-codes": Object.fromEntries(
      Object.entries(HTTP_ERROR_CODES).map(([kind, row]) => [kind, { code: row.code, status: row.status, description: row.description }]),
    ),
  };
}

/**
 * Normalizes a base path: leading slash, no trailing slash, `""` for the root.
 *
 * @example
 * ```ts
 * normalizeBasePath("api/"); // "/api"
 * ```
 */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.trim().replace(/\/+$/, "");
  if (trimmed === "") return "";
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}
