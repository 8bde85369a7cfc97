/**
 * Request parameters of the HTTP extensions that Cloudflare's API does not
 * have: the optional body of `POST …/rotate_secret` and the purge route's
 * query and body. Each reader checks what the wire carries and returns the
 * registry's options; every rule about clients stays in the registry.
 */
import * as z from "zod";
import { ValidationError, type ValidationIssue } from "../model/errors.js";
import { CLIENT_SOURCES, clientSourceSchema, oauthClientSchema, type ClientSource } from "../fields.js";
import { pageSizeProblem } from "../model/ids.js";
import { MAX_PURGE_BATCH } from "../registry/lifecycle.js";
import type { PurgeOptions, RotateSecretOptions } from "../registry/api.js";

/** Longest grace period `POST …/rotate_secret` accepts for the previous secret: 90 days. */
export const MAX_GRACE_PERIOD_SECONDS = 90 * 86_400;
/** Longest idle time the purge route accepts: ten years (longer selects nothing a shorter one would not). */
export const MAX_IDLE_SECONDS = 3650 * 86_400;

export const rotateSecretInputSchema = z
  .strictObject({
    grace_period_seconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_GRACE_PERIOD_SECONDS)
      .optional()
      .describe(
        "Extension: how long the previous secret keeps authenticating, for this rotation only (overrides the registry's rotatedSecretTtlMs). Absent: until the rotated secret is deleted, or the registry's TTL.",
      ),
  })
  .describe("Optional body of a secret rotation (an extension; Cloudflare's API sends none).");

export const purgeInputSchema = z
  .strictObject({
    idle_for_seconds: z
      .number()
      .int()
      .min(0)
      .max(MAX_IDLE_SECONDS)
      .describe("Delete clients whose last use (or, never used, creation) is at least this many seconds ago."),
    sources: z
      .array(clientSourceSchema)
      .min(1)
      .optional()
      .describe('Sources purged. Default ["dcr", "cimd"]: the clients that registered themselves.'),
    limit: z.number().int().min(1).max(MAX_PURGE_BATCH).optional().describe(`Most clients deleted by this call, 1 to ${MAX_PURGE_BATCH} (the default).`),
    cursor: z.string().nullable().optional().describe("next_cursor of the previous call, to continue the purge."),
  })
  .describe("Which idle clients one purge batch deletes.");

export const purgeResultSchema = z
  .object({
    deleted: z.array(z.string()).describe("Ids of the clients this call deleted."),
    next_cursor: z.string().nullable().describe("Send as cursor to continue; null when the whole account has been looked at."),
  })
  .describe("One purge batch.");
export type PurgeBatch = z.infer<typeof purgeResultSchema>;

/** What a purge preview lists: the client objects that a purge with the same parameters would delete. */
export const purgePreviewSchema = z.array(oauthClientSchema);

/**
 * The registry options of a rotation body (undefined: no body; `null` is none too), or a
 * `ValidationError` with one issue per problem.
 *
 * @example
 * ```ts
 * rotateSecretOptions({ grace_period_seconds: 3600 }); // { gracePeriodMs: 3_600_000 }
 * rotateSecretOptions(undefined); // {}
 * ```
 */
export function rotateSecretOptions(body: unknown): Pick<RotateSecretOptions, "gracePeriodMs"> {
  // No body and `null` were accepted before the extension existed (as on every bodiless route): still no options.
  if (body === undefined || body === null) return {};
  const input = objectBody(body);
  const issues = unknownFields(input, ["grace_period_seconds"]);
  const grace = input.grace_period_seconds;
  if (grace !== undefined && !integerIn(grace, 1, MAX_GRACE_PERIOD_SECONDS)) {
    issues.push({ path: "/grace_period_seconds", message: `grace_period_seconds must be an integer from 1 to ${MAX_GRACE_PERIOD_SECONDS} (90 days)` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return grace === undefined ? {} : { gracePeriodMs: (grace as number) * 1000 };
}

/**
 * The registry options of a purge body, or a `ValidationError` with one issue per problem.
 *
 * @example
 * ```ts
 * purgeBodyOptions({ idle_for_seconds: 86_400, limit: 50 }); // { idleForMs: 86_400_000, limit: 50 }
 * ```
 */
export function purgeBodyOptions(body: unknown): PurgeOptions {
  const input = objectBody(body);
  const issues = unknownFields(input, ["idle_for_seconds", "sources", "limit", "cursor"]);
  const idle = input.idle_for_seconds;
  if (idle === undefined) issues.push({ path: "/idle_for_seconds", message: "idle_for_seconds is required" });
  else if (!integerIn(idle, 0, MAX_IDLE_SECONDS)) issues.push({ path: "/idle_for_seconds", message: `idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}` });
  const { sources, limit, cursor } = input;
  if (sources !== undefined && !isSourceList(sources)) {
    issues.push({ path: "/sources", message: `sources must be a non-empty array of ${CLIENT_SOURCES.join(", ")}` });
  }
  if (limit !== undefined && !integerIn(limit, 1, MAX_PURGE_BATCH)) issues.push({ path: "/limit", message: `limit must be an integer from 1 to ${MAX_PURGE_BATCH}` });
  if (cursor !== undefined && cursor !== null && typeof cursor !== "string") issues.push({ path: "/cursor", message: "cursor must be a string or null" });
  if (issues.length > 0) throw new ValidationError(issues);
  const options: PurgeOptions = { idleForMs: (idle as number) * 1000 };
  if (sources !== undefined) options.sources = sources as ClientSource[];
  if (limit !== undefined) options.limit = limit as number;
  if (cursor !== undefined) options.cursor = cursor as string | null;
  return options;
}

/** The query parameters a purge preview reads. */
const PREVIEW_PARAMETERS = new Set(["idle_for_seconds", "source", "per_page", "cursor"]);

/**
 * The registry options of a purge preview query (`idle_for_seconds`,
 * `source` comma-separated, `per_page`, `cursor`), or the messages of its
 * problems. Unknown parameters are refused: a misspelt one would otherwise
 * preview something other than what the operator meant to purge.
 *
 * @example
 * ```ts
 * purgePreviewOptions(new URLSearchParams("idle_for_seconds=60&per_page=10"));
 * // { options: { idleForMs: 60_000, limit: 10, cursor: null } }
 * ```
 */
export function purgePreviewOptions(query: URLSearchParams): { options: PurgeOptions & { limit: number } } | { problems: string[] } {
  const problems: string[] = [];
  for (const name of new Set(query.keys())) {
    if (!PREVIEW_PARAMETERS.has(name)) problems.push(`unknown query parameter ${name.length > 64 ? `${name.slice(0, 64)}…` : name}`);
    else if (query.getAll(name).length > 1) problems.push(`${name} is given more than once`);
  }
  const idleRaw = query.get("idle_for_seconds");
  const idle = idleRaw !== null && /^\d{1,10}$/.test(idleRaw) ? Number(idleRaw) : Number.NaN;
  if (idleRaw === null) problems.push("idle_for_seconds is required");
  else if (!integerIn(idle, 0, MAX_IDLE_SECONDS)) problems.push(`idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}`);
  const sourceRaw = query.get("source");
  const sources = sourceRaw === null ? undefined : sourceRaw.split(",");
  if (sources !== undefined && !isSourceList(sources)) problems.push(`source must be one or more of ${CLIENT_SOURCES.join(", ")} (comma-separated)`);
  const perPageRaw = query.get("per_page");
  const limit = perPageRaw === null ? MAX_PURGE_BATCH : /^\d{1,6}$/.test(perPageRaw) ? Number(perPageRaw) : Number.NaN;
  const sizeProblem = pageSizeProblem(limit, MAX_PURGE_BATCH);
  if (sizeProblem !== null) problems.push(`per_page ${sizeProblem}`);
  if (problems.length > 0) return { problems };
  const options: PurgeOptions & { limit: number } = { idleForMs: idle * 1000, limit, cursor: query.get("cursor") };
  if (sources !== undefined) options.sources = sources as ClientSource[];
  return { options };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ValidationError([{ path: "", message: "must be a JSON object" }]);
  return body as Record<string, unknown>;
}

function unknownFields(input: Record<string, unknown>, known: readonly string[]): ValidationIssue[] {
  return Object.keys(input)
    .filter((key) => !known.includes(key))
    .map((key) => ({ path: pointer(key), message: key.length > 64 ? "unknown field" : `unknown field ${key}` }));
}

function pointer(key: string): string {
  return `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

function integerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function isSourceList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((source) => (CLIENT_SOURCES as readonly unknown[]).includes(source));
}
