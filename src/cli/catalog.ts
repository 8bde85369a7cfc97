/**
 * The scope catalog file of `serve`: which API scopes clients may request,
 * and the display name and category `GET /oauth/scopes` shows for each.
 */
import { readFile } from "node:fs/promises";
import { StartupError } from "./errors.js";

/** A scope catalog entry as the catalog file may spell it. */
export interface CatalogEntry {
  id: string;
  name?: string;
  category?: string;
}

/**
 * Reads a scope catalog file: a JSON array of scope strings or of
 * `{ id, name?, category? }` objects (optionally wrapped as `{ "scopes": [...] }`).
 * Rejects with a {@link StartupError} naming the file and the bad entry.
 *
 * @example
 * const catalog = await loadScopeCatalog("./scopes.json"); // [{ id: "account.read", name: "Read accounts" }, …]
 */
export async function loadScopeCatalog(file: string): Promise<CatalogEntry[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new StartupError(`cannot read the scope catalog ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { scopes?: unknown } | null)?.scopes;
  if (!Array.isArray(list)) {
    throw new StartupError(`scope catalog ${file} must be a JSON array of scopes (or { "scopes": [...] })`);
  }
  return list.map((entry, i): CatalogEntry => {
    if (typeof entry === "string" && entry !== "") return { id: entry };
    const object = entry as Partial<CatalogEntry> | null;
    if (object && typeof object === "object" && typeof object.id === "string" && object.id !== "") {
      return {
        id: object.id,
        ...(typeof object.name === "string" ? { name: object.name } : {}),
        ...(typeof object.category === "string" ? { category: object.category } : {}),
      };
    }
    throw new StartupError(`scope catalog ${file}: entry ${i} must be a scope string or an object with an "id"`);
  });
}
