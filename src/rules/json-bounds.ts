/**
 * Bounds on JSON-like input, checked before any other work. Every client
 * body (create, update, import, registration) and every Client ID Metadata
 * Document (whatever fetcher returned it) goes through
 * {@link boundedJsonCopy} first, so that no later step — mapping, zod,
 * `JSON.stringify`, `structuredClone` — ever meets a value nested deep enough
 * to overflow the stack, a cycle, a getter that throws, or a body large
 * enough to make rule checks expensive. The walk is iterative (an explicit
 * stack), so the check itself cannot overflow either, and it stops at the
 * first bound crossed.
 */
import { pointer, type ValidationIssue } from "../model/errors.js";
import type { RegistryLimits } from "../fields.js";

/** The bounds of one JSON-like value. */
export interface JsonBounds {
  /** Deepest nesting: a value inside more than this many arrays/objects is refused. */
  maxDepth: number;
  /** Most values (every string, number, boolean, null, array and object, the root included). */
  maxNodes: number;
  /** Longest string or member name, in UTF-16 code units. */
  maxStringLength: number;
  /** Largest total, about the length of the value's JSON text (strings, member names, punctuation). */
  maxSize: number;
}

/**
 * The bounds at the default limits. A client body needs about 6 levels
 * (`/jwks/keys/0/x5c/0`), a few hundred values and under 700 KB even with
 * every list at its limit and a key set of 10 RSA-4096 keys with
 * certificate chains, so these leave a wide margin above anything
 * legitimate. The value count and size are also well above what a 64 KiB
 * HTTP body can hold, so that an overlong list still gets its field's own
 * "at most 100 entries" issue rather than a bound's.
 */
export const DEFAULT_JSON_BOUNDS: Readonly<JsonBounds> = Object.freeze({
  maxDepth: 32,
  maxNodes: 100_000,
  maxStringLength: 65_536,
  maxSize: 4_194_304,
});

/** Most characters of a scope, by the scope rules (rules/scopes.ts). */
const SCOPE_LENGTH = 128;

/**
 * The bounds of a client body (or metadata document) under `limits`: the
 * defaults, raised where configured limits admit larger legitimate bodies
 * (more or longer URIs, more scopes), so that a bound never refuses what
 * the field rules would accept.
 *
 * @example
 * ```ts
 * declare const limits: Parameters<typeof clientInputBounds>[0];
 * clientInputBounds(limits).maxDepth; // 32
 * ```
 */
export function clientInputBounds(limits: RegistryLimits): JsonBounds {
  const uriEntries = 2 * limits.maxUris + limits.maxCorsOrigins + 8;
  const scopeEntries = 2 * limits.maxScopes;
  return {
    maxDepth: DEFAULT_JSON_BOUNDS.maxDepth,
    maxNodes: Math.max(DEFAULT_JSON_BOUNDS.maxNodes, uriEntries + scopeEntries + 10_000),
    maxStringLength: Math.max(DEFAULT_JSON_BOUNDS.maxStringLength, limits.maxUriLength),
    maxSize: Math.max(
      DEFAULT_JSON_BOUNDS.maxSize,
      uriEntries * (limits.maxUriLength + 8) + scopeEntries * (SCOPE_LENGTH + 8) + 262_144,
    ),
  };
}

/** Where a value sits: its member name or index in its parent, for the pointer; its container, for cycles. */
interface Place {
  parent: Place | null;
  key: string | number | null;
  container: object | null;
}

interface Task {
  value: unknown;
  place: Place;
  depth: number;
  /** The copy of the parent container the copy of `value` goes into; null for the root. */
  into: unknown[] | Record<string, unknown> | null;
}

function pointerOf(place: Place): string {
  const keys: (string | number)[] = [];
  for (let at: Place | null = place; at !== null && at.key !== null; at = at.parent) keys.push(at.key);
  return pointer(...keys.reverse());
}

/** What a non-JSON value is, for the message. */
function kindOf(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number") return String(value);
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) {
    const prototype: unknown = Object.getPrototypeOf(value);
    const name = typeof prototype === "object" && prototype !== null ? (prototype.constructor as { name?: unknown } | undefined)?.name : undefined;
    return typeof name === "string" && name !== "" ? `an instance of ${name.slice(0, 64)}` : "an object that is not a plain object";
  }
  return `a ${typeof value}`;
}

/** An object literal or JSON.parse result: Object.prototype (this realm's or, for data from a vm context, another's) or none. */
function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) return true;
  return (
    typeof prototype === "object" &&
    Object.getPrototypeOf(prototype) === null &&
    (prototype as { constructor?: { name?: unknown } }).constructor?.name === "Object"
  );
}

/**
 * A copy of `value` as plain JSON data (arrays, plain objects, strings,
 * finite numbers, booleans, null), or the first problem found: a bound of
 * `bounds` crossed, a cycle, a value JSON cannot hold (function, symbol,
 * bigint, NaN, a class instance, undefined in an array), or a member that
 * throws when read. Object members whose value is undefined are left out,
 * as `JSON.stringify` does. Getters are read once, so later steps see the
 * same values that were checked. The walk uses an explicit stack: a value
 * nested 100,000 deep costs 33 steps and no call depth.
 *
 * @example
 * ```ts
 * boundedJsonCopy({ a: [1, "x"] }); // { value: { a: [1, "x"] } }
 * boundedJsonCopy(JSON.parse("[".repeat(40) + "]".repeat(40)));
 * // { issue: { path: "/0/0/…/0", message: "is nested more than 32 levels deep; …" } }
 * ```
 */
export function boundedJsonCopy(
  value: unknown,
  bounds: Readonly<JsonBounds> = DEFAULT_JSON_BOUNDS,
): { value: unknown } | { issue: ValidationIssue } {
  const { maxDepth, maxNodes, maxStringLength, maxSize } = bounds;
  let nodes = 1;
  let size = 0;
  let root: unknown = null;
  const stack: Task[] = [{ value, place: { parent: null, key: null, container: null }, depth: 0, into: null }];
  let current: Task = stack[0]!;
  // The member being read, if any: a getter that throws is reported at its own pointer.
  let reading: Place | null = null;
  const refuse = (message: string, at: Place = current.place) => ({ issue: { path: pointerOf(at), message } });

  try {
    while (stack.length > 0) {
      current = stack.pop()!;
      const { value: item, place, depth, into } = current;
      if (depth > maxDepth) return refuse(`is nested more than ${maxDepth} levels deep; at most ${maxDepth} levels are accepted`);
      let copy: unknown;
      if (item === null || typeof item === "boolean") {
        copy = item;
        size += item === false ? 5 : 4;
      } else if (typeof item === "string") {
        if (item.length > maxStringLength) return refuse(`is a string of ${item.length} characters; at most ${maxStringLength} are accepted`);
        copy = item;
        size += item.length + 2;
      } else if (typeof item === "number") {
        if (!Number.isFinite(item)) return refuse(`must be JSON data: ${kindOf(item)} is not a JSON number`);
        copy = item;
        size += String(item).length;
      } else if (typeof item === "object" && (Array.isArray(item) || isPlainObject(item))) {
        // A value containing itself would never end; JSON cannot express it.
        for (let at = place.parent; at !== null; at = at.parent) {
          if (at.container === item) return refuse("refers back to a value that contains it (a cycle); send JSON data");
        }
        place.container = item;
        if (Array.isArray(item)) {
          const length: number = item.length;
          nodes += length;
          if (nodes > maxNodes) return refuse(`holds too many values: at most ${maxNodes} are accepted in the whole input`);
          size += 2 + length;
          const list: unknown[] = [];
          copy = list;
          // Pushed in reverse, so entries are checked (and copied) in order.
          for (let index = length - 1; index >= 0; index--) {
            stack.push({ value: item[index], place: { parent: place, key: index, container: null }, depth: depth + 1, into: list });
          }
        } else {
          const names = Object.keys(item);
          nodes += names.length;
          if (nodes > maxNodes) return refuse(`holds too many values: at most ${maxNodes} are accepted in the whole input`);
          size += 2 + names.length;
          const object: Record<string, unknown> = {};
          copy = object;
          const members: Task[] = [];
          for (const name of names) {
            if (name.length > maxStringLength) return refuse(`has a member name of ${name.length} characters; at most ${maxStringLength} are accepted`);
            size += name.length + 3;
            const memberPlace: Place = { parent: place, key: name, container: null };
            reading = memberPlace;
            const member: unknown = (item as Record<string, unknown>)[name];
            reading = null;
            // Left out, as JSON.stringify leaves it out: an optional member set to undefined is absent.
            if (member === undefined) continue;
            members.push({ value: member, place: memberPlace, depth: depth + 1, into: object });
          }
          for (let index = members.length - 1; index >= 0; index--) stack.push(members[index]!);
        }
      } else {
        return refuse(`must be JSON data (null, a boolean, a number, a string, an array or a plain object), not ${kindOf(item)}`);
      }
      if (size > maxSize) return refuse(`makes the input too large: at most about ${maxSize} characters of JSON are accepted`);
      if (into === null) root = copy;
      else if (Array.isArray(into)) into.push(copy);
      // Defined, not assigned: a member named "__proto__" stays an ordinary member, as JSON.parse makes it.
      else Object.defineProperty(into, place.key as string, { value: copy, enumerable: true, writable: true, configurable: true });
    }
  } catch {
    // A getter or proxy trap that throws: the value cannot be read as data.
    return refuse("could not be read as JSON data (reading it threw an error)", reading ?? current.place);
  }
  return { value: root };
}
