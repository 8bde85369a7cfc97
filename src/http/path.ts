/**
 * Request paths are matched segment by segment, never resolved: a dot
 * segment or an encoded separator could otherwise move a request from one
 * account's path into another's (`…/accounts/a/oauth_clients/%2e%2e/%2e%2e/b/…`).
 * Such paths are refused whole instead of being repaired.
 */

/**
 * `%2F` / `%5C`, also double-encoded (`%252F`): once decoded they would make
 * one id span two segments, or look like a separator to a later decoder.
 */
const ENCODED_SEPARATOR = /%(?:25)*(?:2f|5c)/i;

/** What every refused path contains at least one of. */
const PATH_SUSPECT = /[.%\\]/;

/** `.` or `..`, each dot literal or percent-encoded (any case, any depth of `%25`). */
const DOT_SEGMENT = /^(?:\.|%(?:25)*2e){1,2}$/i;

/**
 * Why a request path must be refused, or null when it is safe to route.
 * Takes the path still percent-encoded, without the query: the raw request
 * target (`IncomingMessage.url`) or `new URL(request.url).pathname`.
 *
 * @example
 * ```ts
 * findPathProblem("/client/v4/accounts/a/oauth_clients/%2E%2e/b"); // "the path contains a dot segment …"
 * findPathProblem("/client/v4/accounts/a/oauth_clients"); // null
 * ```
 */
export function findPathProblem(path: string): string | null {
  // Without a dot, a percent sign or a backslash there is nothing to refuse.
  if (!PATH_SUSPECT.test(path)) return null;
  if (path.includes("\\") || ENCODED_SEPARATOR.test(path)) {
    return "the path contains a backslash or an encoded slash or backslash (%2F, %5C); ids containing / or \\ cannot be addressed";
  }
  for (const segment of path.split("/")) {
    if (DOT_SEGMENT.test(segment)) {
      return "the path contains a dot segment (. or .., possibly percent-encoded); such paths are refused, never resolved";
    }
  }
  return null;
}

/**
 * The path part of a request target as it arrived: everything before the
 * query or a fragment. An absolute-form target (`http://host/p`) keeps its
 * scheme and authority, which never look like dot segments.
 *
 * @example
 * ```ts
 * rawRequestPath("/client/v4/oauth/scopes?x=1"); // "/client/v4/oauth/scopes"
 * ```
 */
export function rawRequestPath(target: string): string {
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}
