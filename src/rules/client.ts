/**
 * Client-level rules: the invariants of a whole client, checked on the
 * merged record (create: the new record; update: the stored one with the
 * changes applied) — no switch between "none" and a secret method, scope
 * normalization and optional scopes, client_uri verification, visibility
 * and promotion. Per-field rules ran before (rules/field-rules.ts).
 */
import { ValidationError, type ValidationIssue } from "../model/errors.js";
import { usesSecret, type ParsedClientFields } from "../fields.js";
import type { StoredClient } from "../model/store.js";
import { checkOptionalScopes, isApiScope, normalizeScopes, type ScopeRules } from "./scopes.js";
import { hostOf } from "./uris.js";

/** What the client-level rules need from the registry's options. */
export interface ClientRulesOptions {
  scopeRules: ScopeRules;
  /** A fresh verification text, `<prefix>=<token>`, for a new client_uri host. */
  newVerificationText: () => string;
}

/** The client-level rules of one registry. */
export interface ClientRules {
  /**
   * Applies the rules to `merged` (`previous` is the stored record, null on
   * create) and returns the record to store, or throws a ValidationError
   * with every issue found, `earlier` (from field parsing) included.
   */
  apply(merged: StoredClient, previous: StoredClient | null, fields: ParsedClientFields, earlier: ValidationIssue[]): Promise<StoredClient>;
}

/**
 * Creates the client-level rules for a registry's options.
 *
 * @example
 * ```ts
 * const rules = createClientRules({ scopeRules: { identityScopes: ["profile"] }, newVerificationText: () => "v=abc" });
 * const stored = await rules.apply(record, null, {}, []); // throws a ValidationError listing every issue
 * ```
 */
export function createClientRules(options: ClientRulesOptions): ClientRules {
  const { scopeRules, newVerificationText } = options;

  /**
   * Cross-field rules on a merged record (create: `previous` is null):
   * auth-method switches, scope normalization, optional scopes, client_uri
   * verification, visibility. Returns the record to store or throws with
   * every issue found (together with `earlier` issues from field parsing).
   */
  async function apply(
    merged: StoredClient,
    previous: StoredClient | null,
    fields: ParsedClientFields,
    earlier: ValidationIssue[],
  ): Promise<StoredClient> {
    const issues = [...earlier];
    const next = merged;

    // A secret exists only for secret methods: crossing between the groups
    // would leave a secretless client holding one, or a secret client without.
    if (
      previous &&
      fields.token_endpoint_auth_method !== undefined &&
      usesSecret(previous.token_endpoint_auth_method) !== usesSecret(fields.token_endpoint_auth_method)
    ) {
      issues.push({
        path: "/token_endpoint_auth_method",
        message: `cannot switch between a secretless method (none, private_key_jwt) and a secret-based method (${previous.token_endpoint_auth_method} → ${fields.token_endpoint_auth_method}); create a new client instead`,
      });
    }
    applyKeyRules(next, fields, issues);

    const scopesTouched =
      !previous || fields.scopes !== undefined || fields.grant_types !== undefined || fields.response_types !== undefined;
    if (scopesTouched) {
      const normalized = await normalizeScopes(next.scopes, next.grant_types, next.response_types, scopeRules);
      issues.push(...normalized.issues);
      next.scopes = normalized.scopes;
    }
    if (scopesTouched || fields.optional_scopes !== undefined) {
      const checked = checkOptionalScopes(next.optional_scopes, next.scopes);
      if (fields.optional_scopes === undefined && previous) {
        // The stored optional scopes did not change; say which change orphans them.
        for (const issue of checked.issues) {
          issues.push({
            path: issue.path,
            message: `${issue.message}; this update would leave it outside scopes — remove it from optional_scopes in the same update`,
          });
        }
      } else issues.push(...checked.issues);
      next.optional_scopes = checked.optionalScopes;
    }

    applyClientUriRules(next, previous, fields, issues);
    applyVisibilityRules(next, previous, fields, issues);

    if (issues.length > 0) throw new ValidationError(issues);
    return next;
  }

  /** jwks and jwks_uri exclude each other; private_key_jwt needs one of them. */
  function applyKeyRules(next: StoredClient, fields: ParsedClientFields, issues: ValidationIssue[]): void {
    // A field refused by field parsing is not also reported here.
    if (issues.some((i) => i.path.startsWith("/jwks") || i.path === "/token_endpoint_auth_method")) return;
    if (next.jwks !== null && next.jwks_uri !== null) {
      issues.push({
        path: fields.jwks_uri !== undefined ? "/jwks_uri" : "/jwks",
        message: "jwks and jwks_uri are mutually exclusive: send one of them (and null for the other)",
      });
    } else if (next.token_endpoint_auth_method === "private_key_jwt" && next.jwks === null && next.jwks_uri === null) {
      issues.push({
        path: fields.token_endpoint_auth_method !== undefined ? "/token_endpoint_auth_method" : "/jwks",
        message: "private_key_jwt needs the client's public keys: send jwks or jwks_uri",
      });
    }
  }

  function applyClientUriRules(
    next: StoredClient,
    previous: StoredClient | null,
    fields: ParsedClientFields,
    issues: ValidationIssue[],
  ): void {
    if (fields.client_uri === undefined) return;
    if (fields.client_uri === null) {
      next.client_uri_verification = null;
      return;
    }
    // A malformed URI was already reported by field parsing; nothing to compare.
    if (issues.some((i) => i.path === "/client_uri")) return;
    const newHost = hostOf(fields.client_uri);
    const oldHost = previous?.client_uri ? hostOf(previous.client_uri) : null;
    const verification = previous?.client_uri_verification ?? null;
    if (oldHost !== null && oldHost === newHost && verification !== null) {
      if (verification.status === "failed" && previous?.client_uri === fields.client_uri) {
        next.client_uri_verification = { status: "pending", text: verification.text };
      }
      return;
    }
    if (verification?.status === "verified" && oldHost !== null) {
      issues.push({
        path: "/client_uri",
        message: `the host of a verified client_uri cannot change (verified host: ${oldHost})`,
      });
      return;
    }
    next.client_uri_verification = { status: "pending", text: newVerificationText() };
  }

  function applyVisibilityRules(
    next: StoredClient,
    previous: StoredClient | null,
    fields: ParsedClientFields,
    issues: ValidationIssue[],
  ): void {
    if (!previous) return;
    if (fields.visibility === "private" && previous.visibility === "public") {
      issues.push({ path: "/visibility", message: "a public client cannot be made private again" });
      return;
    }
    const promoting = fields.visibility === "public" && previous.visibility === "private";
    if (!promoting && previous.visibility !== "public") return;
    const who = promoting ? "promotion to public needs" : "a public client must keep";
    if (next.client_name.trim().length === 0) issues.push({ path: "/client_name", message: `${who} a non-empty client_name` });
    if (next.logo_uri === null) issues.push({ path: "/logo_uri", message: `${who} a logo_uri` });
    if (next.client_uri === null || next.client_uri_verification?.status !== "verified") {
      issues.push({
        path: "/client_uri",
        message: `${who} a client_uri whose DNS verification has succeeded (status: ${next.client_uri_verification?.status ?? "no client_uri"})`,
      });
    }
    if (!next.scopes.some(isApiScope)) {
      issues.push({ path: "/scopes", message: `${who} at least one API (dot-delimited) scope` });
    }
    if (promoting) {
      next.visibility = "public";
      next.promoted_at = next.updated_at;
    }
  }

  return { apply };
}
