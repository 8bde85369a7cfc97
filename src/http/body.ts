/**
 * Request body reading: size limit on the bytes actually received (a
 * Content-Length header can lie or be absent with chunked encoding), strict
 * UTF-8, JSON, a nesting limit so that nothing downstream ever walks an
 * attacker-chosen depth, and no member name twice in one object.
 */
import { findDuplicateKeys } from "./duplicate-keys.js";

/** Why a body was refused; the handler maps each reason to an error kind. */
export type BodyProblem =
  | { kind: "payload_too_large"; limit: number }
  | { kind: "unsupported_media_type"; contentType: string | null }
  | { kind: "malformed_json"; message: string }
  /** Member names repeated within one object: pointers to them, and how many more were not listed. */
  | { kind: "duplicate_keys"; pointers: string[]; more: number };

export type BodyResult = { ok: true; value: unknown; empty: boolean } | { ok: false; problem: BodyProblem };

/** Deepest array/object nesting accepted; a valid client body needs 3. */
export const MAX_JSON_DEPTH = 32;

/** Duplicated members listed one by one in a refusal; the rest are counted. */
export const MAX_DUPLICATE_KEYS_REPORTED = 100;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * True for `application/json` and `application/*+json`, with an optional UTF-8 charset.
 *
 * @example
 * ```ts
 * isJsonContentType("application/merge-patch+json; charset=utf-8"); // true
 * ```
 */
export function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const [essence = "", ...params] = header.split(";").map((part) => part.trim().toLowerCase());
  const json = essence === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(essence);
  if (!json) return false;
  for (const param of params) {
    const [name, value = ""] = param.split("=", 2).map((s) => s.trim());
    if (name === "charset" && value.replace(/^"|"$/g, "") !== "utf-8") return false;
  }
  return true;
}

/**
 * Reads the raw bytes of a fetch request, stopping (and cancelling the
 * stream) as soon as the limit is passed. Resolves null when the limit was
 * exceeded; rejects when the stream breaks.
 *
 * @example
 * ```ts
 * const bytes = await readLimitedBody(request, 65536); // null: too large
 * ```
 */
export async function readLimitedBody(request: Request, limit: number): Promise<Uint8Array | null> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) {
    await request.body?.cancel().catch(() => undefined);
    return null;
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel().catch(() => undefined);
        return null;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Depth of the deepest array/object, computed without recursion. */
function exceedsDepth(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== "object" || current === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(current)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Reads and parses a JSON body. An empty body is `{ ok: true, empty: true }`
 * whatever its content type, so bodiless calls (the official SDK sends none
 * for rotate and delete) pass; a non-empty body must be declared JSON.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(request, 65536);
 * if (!body.ok) console.log(body.problem); // too large, not JSON, malformed, …
 * ```
 */
export function readJsonBody(request: Request, limit: number): Promise<BodyResult> {
  return parseJsonBody(() => readLimitedBody(request, limit), () => request.headers.get("content-type"), limit);
}

/**
 * {@link readJsonBody} over any source of bytes: `read` resolves the body,
 * null when it passed `limit`, and rejects when it could not be read;
 * `contentType` is asked only for a non-empty body.
 *
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('{"client_name":"Dashboard"}');
 * const body = await parseJsonBody(() => Promise.resolve(bytes), () => "application/json", 65536);
 * ```
 */
export async function parseJsonBody(
  read: () => Promise<Uint8Array | null>,
  contentType: () => string | null,
  limit: number,
): Promise<BodyResult> {
  let bytes: Uint8Array | null;
  try {
    bytes = await read();
  } catch {
    // The client aborted or the stream broke mid-way: nothing usable arrived.
    return { ok: false, problem: { kind: "malformed_json", message: "the request body could not be read" } };
  }
  if (bytes === null) return { ok: false, problem: { kind: "payload_too_large", limit } };
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { ok: false, problem: { kind: "malformed_json", message: "the request body is not valid UTF-8" } };
  }
  if (text.trim() === "") return { ok: true, value: undefined, empty: true };
  const declared = contentType();
  if (!isJsonContentType(declared)) {
    return { ok: false, problem: { kind: "unsupported_media_type", contentType: declared } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof SyntaxError ? `: ${error.message}` : "";
    return { ok: false, problem: { kind: "malformed_json", message: `the request body is not valid JSON${detail}` } };
  }
  if (exceedsDepth(value, MAX_JSON_DEPTH)) {
    return { ok: false, problem: { kind: "malformed_json", message: `the request body is nested deeper than ${MAX_JSON_DEPTH} levels` } };
  }
  // Only objects can repeat a name; the scan runs after the depth check, so its stack is bounded too.
  if (typeof value === "object" && value !== null) {
    const duplicates = findDuplicateKeys(text, MAX_DUPLICATE_KEYS_REPORTED);
    if (duplicates.pointers.length > 0) return { ok: false, problem: { kind: "duplicate_keys", ...duplicates } };
  }
  return { ok: true, value, empty: false };
}
