/**
 * The scope catalog file of `serve`: which API scopes clients may request,
 * and how `GET /oauth/scopes` describes each (display name, category, and
 * the underlying resource scopes the official SDK's type calls `scopes`).
 */
import { readFile } from "node:fs/promises";
import { StartupError } from "./errors.js";

/** One requestable scope of the catalog, as `GET /oauth/scopes` lists it. */
export interface CatalogEntry {
  id: string;
  name?: string;
  category?: string;
  /** The underlying resource scopes this scope grants (descriptive; shown as the item's `scopes`). */
  scopes?: string[];
}

/** Where a problem is, for messages: `entry 2`, `entry 2 > scopes[0]`. */
type Where = string;

/**
 * Reads a scope catalog file. The file is a JSON array of entries, or
 * `{ "scopes": [entries] }`; an entry is one of:
 *
 * - a scope string: `"zone.read"`;
 * - a scope object: `{ "id": "zone.read", "name"?, "category"?, "scopes"?: ["resource scope", …] }`;
 * - a group: `{ "id"?, "name"?, "category"?, "scopes": [entries] }`, recognized by
 *   having no `id` or by holding at least one object in `scopes`. Its members
 *   (which may be groups) take the group's `category`, or else its `name`,
 *   unless they set their own. A group is not a scope itself.
 *
 * Every scope id may appear once. Rejects with a {@link StartupError} naming
 * the file and the bad entry.
 *
 * @example
 * ```ts
 * // scopes.json: { "scopes": [ { "name": "Zones", "scopes": [ { "id": "zone.read", "name": "Read zones" }, "zone.edit" ] } ] }
 * const catalog = await loadScopeCatalog("./scopes.json");
 * // [{ id: "zone.read", name: "Read zones", category: "Zones" }, { id: "zone.edit", category: "Zones" }]
 * ```
 */
export async function loadScopeCatalog(file: string): Promise<CatalogEntry[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new StartupError(`cannot read the scope catalog ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed) ? parsed : isObject(parsed) ? parsed.scopes : undefined;
  if (!Array.isArray(list)) {
    throw new StartupError(`scope catalog ${file} must be a JSON array of scopes (or { "scopes": [...] })`);
  }
  const fail = (where: Where, message: string): never => {
    throw new StartupError(`scope catalog ${file}: ${where} ${message}`);
  };
  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: CatalogEntry, where: Where) => {
    if (seen.has(entry.id)) fail(where, `repeats the scope ${JSON.stringify(entry.id)}; each scope may appear once`);
    seen.add(entry.id);
    entries.push(entry);
  };
  const walk = (items: readonly unknown[], inherited: string | undefined, group: Where | null, depth: number) => {
    items.forEach((item, i) => {
      const where = group === null ? `entry ${i}` : `${group} > scopes[${i}]`;
      if (typeof item === "string") {
        if (item === "") fail(where, "must not be an empty string");
        add({ id: item, ...(inherited === undefined ? {} : { category: inherited }) }, where);
        return;
      }
      if (!isObject(item)) return fail(where, 'must be a scope string, a scope object with an "id", or a group with "scopes"');
      for (const key of ["id", "name", "category"] as const) {
        if (item[key] !== undefined && (typeof item[key] !== "string" || item[key] === "")) fail(where, `"${key}" must be a non-empty string`);
      }
      const id = item.id as string | undefined;
      const name = item.name as string | undefined;
      const category = (item.category as string | undefined) ?? inherited;
      const members = item.scopes;
      if (members !== undefined && !Array.isArray(members)) fail(where, '"scopes" must be an array');
      const isGroup = Array.isArray(members) && (id === undefined || members.some((m) => typeof m === "object" && m !== null));
      if (isGroup) {
        if (depth >= 4) fail(where, "nests groups more than 4 deep");
        walk(members, (item.category as string | undefined) ?? name ?? inherited, where, depth + 1);
        return;
      }
      if (id === undefined) return fail(where, 'must have an "id" (a scope) or a "scopes" list (a group)');
      const resourceScopes = members as unknown[] | undefined;
      if (resourceScopes !== undefined && !resourceScopes.every((s) => typeof s === "string" && s !== "")) {
        fail(where, '"scopes" of a scope lists its resource scopes as non-empty strings');
      }
      add(
        {
          id,
          ...(name === undefined ? {} : { name }),
          ...(category === undefined ? {} : { category }),
          ...(resourceScopes === undefined ? {} : { scopes: resourceScopes as string[] }),
        },
        where,
      );
    });
  };
  walk(list, undefined, null, 0);
  return entries;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
