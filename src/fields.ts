/**
 * THE client field table: every field of a client, once — its wire schema,
 * whether and how callers may set it, how it is stored, its value when a
 * create leaves it out, and whether changes to it are reported.
 *
 * Everything else derives from this table: the create and update input
 * schemas (and so the OpenAPI document), the client object type and schema,
 * the stored record type, the read-only and required-on-create lists, change
 * tracking, the client object built from a record, and the defaults a
 * stored record gets for fields added after it was written. Adding a field
 * means adding its row here (and its rule in `rules/`, if it has one); see
 * docs/architecture.md.
 */
import * as z from "zod";
import { SCOPE_MAX_LENGTH, SCOPE_TOO_LONG } from "./rules/scopes.js";
import { jwksInputSchema, jwksSchema } from "./rules/jwks.js";
import { textSchema } from "./rules/text.js";

export const GRANT_TYPES = ["authorization_code", "refresh_token"] as const;
export const RESPONSE_TYPES = ["code", "token", "id_token"] as const;
export const TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"] as const;
/** Where a client came from: the management API, an import, dynamic registration, or a Client ID Metadata Document. */
export const CLIENT_SOURCES = ["api", "import", "dcr", "cimd"] as const;
export const VISIBILITIES = ["private", "public"] as const;
export const VERIFICATION_STATUSES = ["pending", "in_progress", "verified", "failed"] as const;

export const grantTypeSchema = z.enum(GRANT_TYPES);
export const responseTypeSchema = z.enum(RESPONSE_TYPES);
export const tokenEndpointAuthMethodSchema = z.enum(TOKEN_ENDPOINT_AUTH_METHODS);
export const visibilitySchema = z.enum(VISIBILITIES);
export const clientSourceSchema = z.enum(CLIENT_SOURCES);

export type GrantType = z.infer<typeof grantTypeSchema>;
export type ResponseType = z.infer<typeof responseTypeSchema>;
export type TokenEndpointAuthMethod = z.infer<typeof tokenEndpointAuthMethodSchema>;
export type Visibility = z.infer<typeof visibilitySchema>;
export type ClientSource = z.infer<typeof clientSourceSchema>;

/**
 * Whether a method authenticates with a shared secret (and so the client has one).
 *
 * @example
 * ```ts
 * usesSecret("private_key_jwt"); // false
 * ```
 */
export function usesSecret(method: TokenEndpointAuthMethod): boolean {
  return method === "client_secret_basic" || method === "client_secret_post";
}
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];

export const clientUriVerificationSchema = z
  .object({
    status: z.enum(VERIFICATION_STATUSES),
    text: z.string().describe("Publish this exact value as a DNS TXT record on the client_uri host."),
  })
  .describe("Proof that the client owner controls the client_uri host.");
export type ClientUriVerification = z.infer<typeof clientUriVerificationSchema>;

/** Size limits applied to inputs; every one is configurable through registry options. */
export interface RegistryLimits {
  /**
   * Longest accepted URI or origin, in characters. Default 2048. URIs are
   * ASCII, so characters, code points and bytes are the same number.
   */
  maxUriLength: number;
  /** Most redirect_uris / post_logout_redirect_uris entries. Default 100. */
  maxUris: number;
  /** Most allowed_cors_origins entries. Default 100. */
  maxCorsOrigins: number;
  /** Most scopes / optional_scopes entries. Default 100. */
  maxScopes: number;
  /** Largest page `list` returns. Default 100. */
  maxPageSize: number;
  /** Page size when `list` is called without a limit. Default 50. */
  defaultPageSize: number;
  /** Most records one filtered `list` call (source, last use) looks at before returning. Default 1000. */
  maxFilterScan: number;
}

export const DEFAULT_LIMITS: Readonly<RegistryLimits> = Object.freeze({
  maxUriLength: 2048,
  maxUris: 100,
  maxCorsOrigins: 100,
  maxScopes: 100,
  maxPageSize: 100,
  defaultPageSize: 50,
  maxFilterScan: 1000,
});

/** Longest client_name, in Unicode code points. */
export const CLIENT_NAME_MAX_LENGTH = 200;

/** Most entries a list field takes, and the issue a longer list gets. */
export interface EntryCap {
  max: number;
  message: string;
}

/** How a create body treats a field: it must be sent, may be sent, or must not be sent. */
export type CreateMode = "required" | "optional" | "read-only";

/**
 * What an explicit `null` on an optional field means: `"default"` puts the
 * field back to its table default (`initial`: lists become [], URIs are
 * cleared), `"unchanged"` leaves it as it is (visibility, which cannot be
 * demoted). A settable field without `onNull` is required: null is refused.
 * Declarative clients (Terraform) send null for every attribute removed
 * from their configuration.
 */
export type NullMeaning = "default" | "unchanged";

/** One row of the field table. */
export interface FieldSpec {
  /** The value in the client object, as every read returns it. */
  read: z.ZodType;
  /** Input schema (shape and per-field limits); absent for fields callers cannot set. */
  input?: (limits: RegistryLimits) => z.ZodType;
  /** For list fields: most entries, checked before any entry is looked at. */
  entries?: (limits: RegistryLimits) => EntryCap;
  create: CreateMode;
  update: "optional" | "read-only";
  /** What `null` sent for this field means; absent: null is refused (a required field). */
  onNull?: NullMeaning;
  /** Stored as null while unset, and then left out of the client object. */
  nullable?: true;
  /** Not stored: computed from the record when the client object is built. */
  computed?: true;
  /** Stored, never shown: not in the client object, its schemas or the OpenAPI document (credential hashes). */
  hidden?: true;
  /** The stored value when a create leaves the field out (and for records written before the field existed). */
  initial?: () => unknown;
  /** Reported in `changed_fields` of `client.updated` events. */
  tracked: boolean;
}

const atMost = (max: number, what: string): EntryCap => ({ max, message: `must contain at most ${max} ${what}` });
// Duplicates are refused entry by entry; a few are reported, floods get one issue.
const enumCap = (values: readonly string[]) => (): EntryCap => ({ max: values.length * 4, message: "too many entries" });
const uriCap = (limits: RegistryLimits) => atMost(limits.maxUris, "entries");
const scopeCap = (limits: RegistryLimits) => atMost(limits.maxScopes, "scopes");
const originCap = (limits: RegistryLimits) => atMost(limits.maxCorsOrigins, "origins");

const uri = (limits: RegistryLimits) => textSchema(limits.maxUriLength);
const list = <T extends z.ZodType>(item: T, cap: EntryCap, min?: [number, string]) =>
  min ? z.array(item).min(min[0], min[1]).max(cap.max, cap.message) : z.array(item).max(cap.max, cap.message);
const scopeList = (limits: RegistryLimits) =>
  list(textSchema(SCOPE_MAX_LENGTH, SCOPE_TOO_LONG), scopeCap(limits));
const webPage = (limits: RegistryLimits) => uri(limits);
const timestamp = z.string().describe("RFC 3339 UTC.");

/** logo_uri, policy_uri, tos_uri: optional web pages with no rule of their own. */
const OPTIONAL_WEB_PAGE = {
  read: z.string(),
  input: (limits: RegistryLimits) => webPage(limits).describe("https (http on loopback), ASCII only, kept as sent. null clears it."),
  create: "optional",
  update: "optional",
  onNull: "default",
  nullable: true,
  initial: () => null,
  tracked: true,
} as const;

/** A read-only time of last use: null until the first use, and then left out of the client object while null. */
const lastUse = (description: string) =>
  ({
    read: z.string().describe(description),
    create: "read-only",
    update: "read-only",
    nullable: true,
    initial: () => null,
    tracked: false,
  }) as const;

/** A stored string that never leaves the registry: the registration access token hash (RFC 7592). */
const HIDDEN = {
  read: z.string(),
  create: "read-only",
  update: "read-only",
  nullable: true,
  hidden: true,
  initial: () => null,
  tracked: false,
} as const;

/** The field table, in the order fields appear in the client object. */
export const CLIENT_FIELDS = {
  client_id: { read: z.string().describe("Read-only identifier."), create: "read-only", update: "read-only", tracked: false },
  source: {
    read: clientSourceSchema.describe(
      'How the client was registered: "api" (management API), "import", "dcr" (dynamic registration), "cimd" (Client ID Metadata Document).',
    ),
    create: "read-only",
    update: "read-only",
    initial: () => "api",
    tracked: false,
  },
  visibility: {
    read: visibilitySchema,
    input: () =>
      visibilitySchema.describe(
        'On create only "private" (the default). On update "public" promotes the client; demotion is refused; null leaves it unchanged.',
      ),
    create: "optional",
    update: "optional",
    onNull: "unchanged",
    initial: () => "private",
    tracked: true,
  },
  client_name: {
    read: z.string(),
    input: () =>
      textSchema().describe(
        `Display name, kept as sent: 1 to ${CLIENT_NAME_MAX_LENGTH} characters (Unicode code points), ` +
          "no leading or trailing whitespace, no control, invisible or bidirectional-formatting characters.",
      ),
    create: "required",
    update: "optional",
    initial: () => "",
    tracked: true,
  },
  grant_types: {
    read: z.array(grantTypeSchema),
    input: () =>
      list(grantTypeSchema, enumCap(GRANT_TYPES)(), [1, "must contain authorization_code"]).describe(
        "Must contain authorization_code; each value once.",
      ),
    entries: enumCap(GRANT_TYPES),
    create: "required",
    update: "optional",
    initial: () => ["authorization_code"],
    tracked: true,
  },
  response_types: {
    read: z.array(responseTypeSchema),
    input: () =>
      list(responseTypeSchema, enumCap(RESPONSE_TYPES)(), [1, "must contain at least one response type"]).describe(
        "Non-empty; each value once.",
      ),
    entries: enumCap(RESPONSE_TYPES),
    create: "required",
    update: "optional",
    initial: () => ["code"],
    tracked: true,
  },
  redirect_uris: {
    read: z.array(z.string()),
    input: (limits: RegistryLimits) =>
      list(uri(limits), uriCap(limits), [1, "must contain at least one URI"]).describe(
        "https, http on loopback, or a reverse-domain private-use scheme; ASCII only (RFC 3986); no fragment, userinfo or wildcard; each URI once; kept as sent.",
      ),
    entries: uriCap,
    create: "required",
    update: "optional",
    initial: () => [],
    tracked: true,
  },
  scopes: {
    read: z.array(z.string()),
    input: (limits: RegistryLimits) =>
      scopeList(limits).describe(
        "Each scope once, order kept; openid and offline_access are managed from response_types and grant_types.",
      ),
    entries: scopeCap,
    create: "required",
    update: "optional",
    initial: () => [],
    tracked: true,
  },
  optional_scopes: {
    read: z.array(z.string()),
    input: (limits: RegistryLimits) => scopeList(limits).describe("Each must also be in scopes, once; never openid or offline_access. null: []."),
    entries: scopeCap,
    create: "optional",
    update: "optional",
    onNull: "default",
    initial: () => [],
    tracked: true,
  },
  token_endpoint_auth_method: {
    read: tokenEndpointAuthMethodSchema,
    input: () => tokenEndpointAuthMethodSchema,
    create: "required",
    update: "optional",
    initial: () => "client_secret_basic",
    tracked: true,
  },
  jwks: {
    read: jwksSchema,
    input: () => jwksInputSchema(),
    create: "optional",
    update: "optional",
    onNull: "default",
    nullable: true,
    initial: () => null,
    tracked: true,
  },
  jwks_uri: {
    read: z.string(),
    input: (limits: RegistryLimits) =>
      uri(limits).describe("https URL of the client's JWK Set for private_key_jwt; ASCII only, kept as sent. Excludes jwks. null clears it."),
    create: "optional",
    update: "optional",
    onNull: "default",
    nullable: true,
    initial: () => null,
    tracked: true,
  },
  allowed_cors_origins: {
    read: z.array(z.string()),
    input: (limits: RegistryLimits) =>
      list(uri(limits), originCap(limits)).describe(
        "Origins only (scheme, host, optional port); kept as sent, compared canonically (host case, default port); each origin once. null: [].",
      ),
    entries: originCap,
    create: "optional",
    update: "optional",
    onNull: "default",
    initial: () => [],
    tracked: true,
  },
  post_logout_redirect_uris: {
    read: z.array(z.string()),
    input: (limits: RegistryLimits) =>
      list(uri(limits), uriCap(limits)).describe("Redirect URI rules; each URI once; kept as sent. null: []."),
    entries: uriCap,
    create: "optional",
    update: "optional",
    onNull: "default",
    initial: () => [],
    tracked: true,
  },
  client_uri: {
    read: z.string(),
    input: (limits: RegistryLimits) =>
      webPage(limits).describe("Home page of the client; https (http on loopback), ASCII only, kept as sent. Starts DNS verification. null clears it."),
    create: "optional",
    update: "optional",
    onNull: "default",
    nullable: true,
    initial: () => null,
    tracked: true,
  },
  logo_uri: OPTIONAL_WEB_PAGE,
  policy_uri: OPTIONAL_WEB_PAGE,
  tos_uri: OPTIONAL_WEB_PAGE,
  client_uri_verification: {
    read: clientUriVerificationSchema,
    create: "read-only",
    update: "read-only",
    nullable: true,
    initial: () => null,
    tracked: true,
  },
  has_rotated_secret: { read: z.boolean(), create: "read-only", update: "read-only", computed: true, tracked: false },
  client_secret_expires_at: {
    read: z.number().int().describe("Unix seconds when the client secret stops authenticating; 0: never."),
    create: "read-only",
    update: "read-only",
    initial: () => 0,
    tracked: false,
  },
  created_at: { read: timestamp, create: "read-only", update: "read-only", tracked: false },
  updated_at: { read: timestamp, create: "read-only", update: "read-only", tracked: false },
  promoted_at: {
    read: z.string().describe("RFC 3339 UTC; set when promoted to public."),
    create: "read-only",
    update: "read-only",
    nullable: true,
    initial: () => null,
    tracked: false,
  },
  last_used_at: lastUse("RFC 3339 UTC; last successful authentication or use (updated at most once per lastUsedWriteIntervalMs)."),
  secret_last_used_at: lastUse("RFC 3339 UTC; last time the current secret matched."),
  rotated_secret_last_used_at: lastUse("RFC 3339 UTC; last time the rotated secret matched."),
  registration_access_token_hash: HIDDEN,
  // Stored: the end of a per-call grace period. Shown: when the rotated secret stops authenticating,
  // whichever ends it (that grace period or rotatedSecretTtlMs); the registry fills it in on every read.
  rotated_secret_expires_at: {
    read: z
      .string()
      .describe("RFC 3339 UTC; when the rotated secret stops authenticating. Absent when there is none, or it lasts until deleted."),
    create: "read-only",
    update: "read-only",
    nullable: true,
    initial: () => null,
    tracked: false,
  },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof CLIENT_FIELDS;
/** Every field of the client object. */
export type ClientFieldName = keyof Fields;

type Keys<Test> = { [K in ClientFieldName]: Fields[K] extends Test ? K : never }[ClientFieldName];
type StoredFieldName = Exclude<ClientFieldName, Keys<{ computed: true }>>;
type InputFieldName = Keys<{ input: (limits: RegistryLimits) => z.ZodType }>;
type CreateFieldName = Exclude<InputFieldName, Keys<{ create: "read-only" }>>;
type RequiredFieldName = Keys<{ create: "required" }>;
type NullableFieldName = Keys<{ nullable: true }>;
/** Stored fields that never leave the registry. */
export type HiddenFieldName = Keys<{ hidden: true }>;
/** Fields of the client object every read returns. */
type WireFieldName = Exclude<ClientFieldName, HiddenFieldName>;
type ComputedFieldName = Keys<{ computed: true }>;
/** Settable fields that take an explicit null (see {@link NullMeaning}). */
type NullAcceptingFieldName = Keys<{ onNull: NullMeaning }>;
/** Fields whose changes `client.updated` events report. */
export type ChangeTrackedField = Keys<{ tracked: true }>;

/** The client fields as a record stores them: unset optional values are null. */
export type StoredClientFields = {
  [K in StoredFieldName]: K extends NullableFieldName ? z.infer<Fields[K]["read"]> | null : z.infer<Fields[K]["read"]>;
};

const entries = Object.entries(CLIENT_FIELDS) as [ClientFieldName, FieldSpec][];
const namesWhere = (test: (spec: FieldSpec) => boolean) => entries.filter(([, spec]) => test(spec)).map(([name]) => name);

/**
 * Fields the server sets; sending them is an error (plus the secret, never a
 * field of the client). Hidden fields are not named: sending one is an
 * unknown field, like any name the client object does not have.
 */
export const READ_ONLY_FIELDS: readonly string[] = Object.freeze([
  ...namesWhere((spec) => spec.update === "read-only" && !spec.hidden),
  "client_secret",
]);
/** Fields a create body must carry. */
export const REQUIRED_ON_CREATE = namesWhere((spec) => spec.create === "required") as readonly RequiredFieldName[];
/** Fields a create body may carry (visibility only as "private"; "public" is reached by promotion, later). */
export const CREATE_FIELDS = namesWhere((spec) => spec.input !== undefined && spec.create !== "read-only") as readonly CreateFieldName[];
/** Fields an update body may carry. */
export const UPDATE_FIELDS = namesWhere((spec) => spec.input !== undefined && spec.update !== "read-only") as readonly InputFieldName[];
/**
 * What an explicit null means for a settable field, or undefined when null
 * is refused (the field is required).
 *
 * @example
 * ```ts
 * nullMeaning("allowed_cors_origins"); // "default": back to []
 * nullMeaning("client_name");          // undefined: required, cannot be cleared
 * ```
 */
export function nullMeaning(field: string): NullMeaning | undefined {
  return Object.hasOwn(CLIENT_FIELDS, field) ? (CLIENT_FIELDS as Record<string, FieldSpec>)[field]!.onNull : undefined;
}
/** Fields whose changes are reported in `client.updated` events. */
export const CHANGE_TRACKED_FIELDS = namesWhere((spec) => spec.tracked) as readonly ChangeTrackedField[];

/** The input schemas of one set of limits, per settable field. */
export type FieldSchemas = { [K in InputFieldName]: ReturnType<Fields[K]["input"]> };

function buildFieldSchemas(limits: RegistryLimits): FieldSchemas {
  const schemas: Record<string, z.ZodType> = {};
  for (const [name, spec] of entries) if (spec.input) schemas[name] = spec.input(limits);
  return schemas as FieldSchemas;
}

// Schemas depend only on the limits; a registry's limits object is built
// once, so each registry builds its schemas once instead of on every call.
const schemasByLimits = new WeakMap<RegistryLimits, FieldSchemas>();

/**
 * The per-field input schemas for `limits` (cached per limits object).
 *
 * @example
 * ```ts
 * fieldSchemas(DEFAULT_LIMITS).redirect_uris.safeParse(["https://app.example.com/cb"]).success; // true
 * ```
 */
export function fieldSchemas(limits: RegistryLimits): FieldSchemas {
  let schemas = schemasByLimits.get(limits);
  if (!schemas) schemasByLimits.set(limits, (schemas = buildFieldSchemas(limits)));
  return schemas;
}

/** Most entries of a list field under `limits`, or undefined for other fields. */
export function entryCap(field: string, limits: RegistryLimits): EntryCap | undefined {
  const spec = (CLIENT_FIELDS as Record<string, FieldSpec>)[field];
  return spec?.entries?.(limits);
}

const defaultSchemas = fieldSchemas(DEFAULT_LIMITS);

type BodySchema<K extends InputFieldName> = K extends NullAcceptingFieldName ? z.ZodNullable<FieldSchemas[K]> : FieldSchemas[K];
type CreateShape = {
  [K in CreateFieldName]: K extends RequiredFieldName ? FieldSchemas[K] : z.ZodOptional<BodySchema<K>>;
};
type UpdateShape = { [K in InputFieldName]: z.ZodOptional<BodySchema<K>> };

/** A field's schema in a create or update body: nullable where the table gives null a meaning. */
function bodySchema(name: InputFieldName): z.ZodType {
  const schema: z.ZodType = defaultSchemas[name];
  return nullMeaning(name) === undefined ? schema : schema.nullable();
}
type ReadShape = {
  [K in WireFieldName]: K extends NullableFieldName ? z.ZodOptional<Fields[K]["read"]> : Fields[K]["read"];
};

/** Body of a create call. */
export const createClientInputSchema = z.strictObject(
  Object.fromEntries(
    CREATE_FIELDS.map((name) => [name, CLIENT_FIELDS[name].create === "required" ? defaultSchemas[name] : bodySchema(name).optional()]),
  ) as CreateShape,
);
export type CreateClientInput = z.infer<typeof createClientInputSchema>;

/**
 * Body of an update (PATCH) call: every field optional; only fields sent
 * change; null puts an optional field back to its default (see {@link NullMeaning}).
 */
export const updateClientInputSchema = z.strictObject(
  Object.fromEntries(UPDATE_FIELDS.map((name) => [name, bodySchema(name).optional()])) as UpdateShape,
);
export type UpdateClientInput = z.infer<typeof updateClientInputSchema>;

/** The client as every read returns it (wire names, snake_case). */
export const oauthClientSchema = z.object(
  Object.fromEntries(
    entries.filter(([, spec]) => !spec.hidden).map(([name, spec]) => [name, spec.nullable ? spec.read.optional() : spec.read]),
  ) as ReadShape,
);
export type OAuthClient = z.infer<typeof oauthClientSchema>;

/** The create result: the client plus its secret (absent for "none" clients). */
export const createdOAuthClientSchema = oauthClientSchema.extend({
  client_secret: z.string().optional().describe("Shown once; store it now."),
});
export type CreatedOAuthClient = z.infer<typeof createdOAuthClientSchema>;

/** Input fields after shape checks and per-field rules, ready for cross-field rules. */
export type ParsedClientFields = {
  [K in InputFieldName]?: z.infer<FieldSchemas[K]> | (K extends NullableFieldName ? null : never);
};

/** Stored fields that have a default, with the function that makes it. */
const INITIAL_VALUES: readonly [string, () => unknown][] = entries.flatMap(([name, spec]) =>
  spec.initial && !spec.computed ? [[name, spec.initial] as [string, () => unknown]] : [],
);

/**
 * The stored value of every field that has one when a record leaves it out:
 * what a create stores for fields it was not sent, and what a record written
 * before a field existed reads back as.
 *
 * @example
 * ```ts
 * storedDefaults().allowed_cors_origins; // []
 * ```
 */
export function storedDefaults(): Partial<StoredClientFields> {
  const defaults: Record<string, unknown> = {};
  for (const [name, initial] of INITIAL_VALUES) defaults[name] = initial();
  return defaults as Partial<StoredClientFields>;
}

/**
 * Gives every stored field `record` lacks its default (a fresh value each
 * time), leaving the fields it has alone: how a record written before a
 * field existed reads back. Costs one key check per field when nothing is
 * missing.
 *
 * @example
 * ```ts
 * const written: Partial<StoredClientFields> = { client_name: "Written before CORS origins existed" };
 * fillStoredDefaults(written).allowed_cors_origins; // []
 * ```
 */
export function fillStoredDefaults<T extends object>(record: T): T {
  const values = record as Record<string, unknown>;
  for (const [name, initial] of INITIAL_VALUES) if (!(name in values)) values[name] = initial();
  return record;
}

/** How {@link clientObject} copies one field: decided once from the table, not per call. */
const enum Copy {
  /** A string, number or boolean: copied as is. */
  Plain,
  /** Left out while null. */
  Nullable,
  /** A list of strings: a shallow copy. */
  List,
  /** An object (or null, then left out): a deep copy, so callers cannot reach stored state. */
  Object,
  /** Not stored: taken from `computed`. */
  Computed,
}

const ARRAY_FIELDS = new Set(entries.filter(([, spec]) => spec.read instanceof z.ZodArray).map(([name]) => name));
const OBJECT_FIELDS = new Set(entries.filter(([, spec]) => spec.read instanceof z.ZodObject).map(([name]) => name));

/** The client object's fields in table order, hidden ones dropped, each with how it is copied. */
const CLIENT_OBJECT_PLAN: readonly (readonly [string, Copy])[] = entries
  .filter(([, spec]) => !spec.hidden)
  .map(([name, spec]) => {
    if (spec.computed) return [name, Copy.Computed] as const;
    if (OBJECT_FIELDS.has(name)) return [name, Copy.Object] as const;
    if (ARRAY_FIELDS.has(name)) return [name, Copy.List] as const;
    return [name, spec.nullable ? Copy.Nullable : Copy.Plain] as const;
  });
const PLAN_NAMES = CLIENT_OBJECT_PLAN.map(([name]) => name);
const PLAN_COPIES = CLIENT_OBJECT_PLAN.map(([, copy]) => copy);

type ClientObjectBuilder = (values: Record<string, unknown>, computed: Record<string, unknown>) => Record<string, unknown>;

/**
 * The builder as straight-line code generated from the plan: one named
 * property store per field, as a hand-written literal would do (measured
 * ~6x faster than a keyed loop). Field names come from the table, never
 * from input. Where code generation is forbidden (a Content-Security-Policy
 * without 'unsafe-eval', some edge runtimes), the loop is used instead.
 */
function compileClientObject(): ClientObjectBuilder | null {
  const lines = CLIENT_OBJECT_PLAN.map(([name, copy]) => {
    const key = JSON.stringify(name);
    switch (copy) {
      case Copy.Plain:
        return `o[${key}] = v[${key}];`;
      case Copy.Nullable:
        return `if (v[${key}] !== null) o[${key}] = v[${key}];`;
      case Copy.List:
        return `o[${key}] = Array.isArray(v[${key}]) ? v[${key}].slice() : v[${key}];`;
      case Copy.Object:
        return `if (v[${key}] !== null) o[${key}] = copy(v[${key}]);`;
      default:
        return `o[${key}] = c[${key}];`;
    }
  });
  try {
    const factory = new Function("copy", `return function clientObject(v, c) { const o = {}; ${lines.join(" ")} return o; };`) as (
      copy: (value: unknown) => unknown,
    ) => ClientObjectBuilder;
    return factory(structuredCopy);
  } catch {
    return null;
  }
}

/**
 * The builder without code generation: the same plan, walked per call.
 * Exported so tests hold both builders to the same output.
 *
 * @example
 * ```ts
 * clientObjectByLoop({ ...record }, { has_rotated_secret: false }); // deep-equal to clientObject(record, …)
 * ```
 */
export function clientObjectByLoop(values: Record<string, unknown>, computed: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < PLAN_NAMES.length; i++) {
    const name = PLAN_NAMES[i]!;
    const value = PLAN_COPIES[i] === Copy.Computed ? computed[name] : values[name];
    switch (PLAN_COPIES[i]) {
      case Copy.Nullable:
        if (value !== null) out[name] = value;
        break;
      case Copy.List:
        out[name] = Array.isArray(value) ? value.slice() : value;
        break;
      case Copy.Object:
        if (value !== null) out[name] = structuredCopy(value);
        break;
      default:
        out[name] = value;
    }
  }
  return out;
}

let buildClientObject: ClientObjectBuilder | undefined;

/**
 * The client object of stored fields, in table order: lists copied, objects
 * deep-copied, unset optional values left out, hidden fields never shown,
 * computed fields from `computed`. The per-field decisions are made once,
 * from the table: this runs for every client of every read.
 *
 * @example
 * ```ts
 * const client = clientObject(record, { has_rotated_secret: false });
 * ```
 */
export function clientObject(
  record: StoredClientFields,
  computed: { [K in ComputedFieldName]: z.infer<Fields[K]["read"]> },
): OAuthClient {
  buildClientObject ??= compileClientObject() ?? clientObjectByLoop;
  return buildClientObject(record as Record<string, unknown>, computed as Record<string, unknown>) as OAuthClient;
}

/** A deep copy of JSON data (objects, arrays, primitives), cheaper than structuredClone for small values. */
function structuredCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(structuredCopy);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = structuredCopy((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * Which tracked fields differ between two versions of a record.
 *
 * @example
 * ```ts
 * changedFields(record, { ...record, client_name: "New name" }); // ["client_name"]
 * ```
 */
export function changedFields(before: StoredClientFields, after: StoredClientFields): ChangeTrackedField[] {
  return CHANGE_TRACKED_FIELDS.filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
}
