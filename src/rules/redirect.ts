/**
 * Matching a redirect_uri presented at the authorization endpoint against a
 * client's registered redirect URIs.
 */

/**
 * An http redirect URI on a loopback host, split into the parts that must be
 * equal (host, and the path and query after it) and the port, which may
 * differ. Parsed from the raw string rather than with `URL`, because `URL`
 * would normalize case, dot segments and percent-encoding: a presented URI
 * must be literally the registered one, not merely equivalent to it.
 */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d+))?([/?][^#]*)?$/;

/** A port a native app can really listen on: 1..65535, written without leading zeros. */
const USABLE_PORT = /^[1-9]\d{0,4}$/;

interface LoopbackParts {
  host: string;
  port: string | undefined;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | null {
  const match = LOOPBACK_HTTP.exec(uri);
  if (!match) return null;
  return { host: match[1]!, port: match[2], rest: match[3] ?? "" };
}

function isUsablePort(port: string | undefined): boolean {
  return port === undefined || (USABLE_PORT.test(port) && Number(port) <= 65535);
}

/**
 * Whether `uri` may be used as the redirect_uri of an authorization request
 * for `client`.
 *
 * The presented URI must be exactly one of the registered ones, character for
 * character: no prefix match, no wildcard, no case folding, no extra query
 * parameters. The one exception is RFC 8252 §7.3: for an `http` redirect URI
 * on a loopback host (`127.0.0.1`, `[::1]`, `localhost`) any port is accepted,
 * because a native app picks a free port at run time; scheme, host, path and
 * query must still be identical.
 *
 * @example
 * ```ts
 * const client = { redirect_uris: ["https://app.example.com/cb", "http://127.0.0.1/cb"] };
 * isRedirectUriAllowed(client, "https://app.example.com/cb");       // true
 * isRedirectUriAllowed(client, "https://app.example.com/cb?x=1");   // false: not the registered URI
 * isRedirectUriAllowed(client, "http://127.0.0.1:53127/cb");        // true: loopback, any port
 * isRedirectUriAllowed(client, "http://localhost:53127/cb");        // false: another host
 * ```
 */
export function isRedirectUriAllowed(client: { redirect_uris: readonly string[] }, uri: string): boolean {
  // Callers pass request parameters straight through; anything but a string is a refusal, not a crash.
  if (typeof uri !== "string" || uri.length === 0) return false;
  const registered: unknown = client?.redirect_uris;
  if (!Array.isArray(registered)) return false;
  if (registered.includes(uri)) return true;

  const presented = loopbackParts(uri);
  if (!presented || !isUsablePort(presented.port)) return false;
  return registered.some((candidate) => {
    if (typeof candidate !== "string") return false;
    const allowed = loopbackParts(candidate);
    return allowed !== null && allowed.host === presented.host && allowed.rest === presented.rest;
  });
}
