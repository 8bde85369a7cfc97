/**
 * Duplicate member names in JSON text. `JSON.parse` keeps the last of two
 * equal names, so `{"token_endpoint_auth_method":"client_secret_basic",
 * "token_endpoint_auth_method":"none"}` would silently mean "none" here
 * while another parser (a proxy, an audit log) may read the first.
 * RFC 8259 leaves the meaning open; a request with duplicates is refused.
 *
 * One pass over the text, no recursion: each object keeps the set of its
 * decoded names, so the cost is linear in the text's length, and the stack
 * holds one frame per open container (the caller bounds the depth first).
 */

/** Where the duplicates are: JSON pointers (RFC 6901), and how many more were not listed. */
export interface DuplicateKeys {
  pointers: string[];
  more: number;
}

interface Frame {
  /** Decoded member names seen so far, each with whether it was reported already; null for an array. */
  names: Map<string, boolean> | null;
  /** Member name or array index under which the current value sits. */
  token: string | number;
  /** In an object: the next string is a member name, not a value. */
  expectName: boolean;
}

/**
 * Finds every member name that appears more than once in the same object,
 * at any depth, comparing names after unescaping (`"a"` and `"\u0061"` are
 * equal). Lists at most `limit` pointers (each duplicated name once per
 * object), counting the rest in `more`. Meant for text `JSON.parse` has
 * accepted; on anything else it still returns (never throws), with no
 * meaningful result.
 *
 * @example
 * ```ts
 * findDuplicateKeys('{"a":1,"b":{"c":2,"c":3},"a":4}');
 * // { pointers: ["/b/c", "/a"], more: 0 }
 * ```
 */
export function findDuplicateKeys(text: string, limit = 100): DuplicateKeys {
  const result: DuplicateKeys = { pointers: [], more: 0 };
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text.charCodeAt(i);
    if (char === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c /* \ */ ? 2 : 1;
      i++;
      const top = stack[stack.length - 1];
      if (top?.names && top.expectName) {
        const name = decodeString(text.slice(start, i));
        top.expectName = false;
        top.token = name;
        const reported = top.names.get(name);
        if (reported === undefined) top.names.set(name, false);
        else if (!reported) {
          top.names.set(name, true);
          if (result.pointers.length < limit) result.pointers.push(pointerTo(stack));
          else result.more++;
        }
      }
      continue;
    }
    if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      const object = char === 0x7b;
      stack.push({ names: object ? new Map() : null, token: 0, expectName: object });
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      stack.pop();
    } else if (char === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.names) top.expectName = true;
      else if (top) top.token = (top.token as number) + 1;
    }
    i++;
  }
  return result;
}

/** A JSON string literal's value; without escapes, the text between the quotes. Never throws. */
function decodeString(literal: string): string {
  if (!literal.includes("\\")) return literal.slice(1, -1);
  try {
    const value: unknown = JSON.parse(literal);
    return typeof value === "string" ? value : literal;
  } catch {
    return literal;
  }
}

/** Pointer to the member under the innermost frame's current token. */
function pointerTo(stack: readonly Frame[]): string {
  return stack.map((frame) => `/${String(frame.token).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}
