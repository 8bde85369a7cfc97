/**
 * URI rules for redirect URIs, post-logout redirect URIs, CORS origins and
 * the informational URLs (client_uri, logo_uri, policy_uri, tos_uri).
 *
 * Each `check*` function returns null when the value is acceptable, or a
 * message explaining the refusal. They never throw on bad input.
 *
 * URIs are ASCII (RFC 3986): a non-ASCII character is refused with the
 * percent-encoded / punycode form to send instead. So no URI can carry an
 * invisible or bidirectional-formatting character except percent-encoded,
 * where it shows as `%E2%80%AE`, and lengths in characters, code points
 * and bytes are the same number.
 */
import { exceedsCodePoints, tooLongMessage, wellFormedProblem, WHITESPACE_OR_CONTROL } from "./text.js";

/** Hosts on which plain `http` is allowed (RFC 8252 §7.3 loopback redirects). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Schemes that can run code or read local data; refused everywhere. */
const FORBIDDEN_SCHEMES = new Set(["javascript", "data", "file", "vbscript", "about", "blob"]);

/** Reverse-domain private-use scheme (RFC 8252 §7.1), e.g. `com.example.app`. */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

// Whitespace and C0/C1 control characters; the WHATWG URL parser would
// silently strip some of them, so they are refused before parsing.

// An "@" in the authority means user information, even when empty
// ("https://@host"), which the URL parser would silently drop.
const AUTHORITY_WITH_USERINFO = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\\]*@/;

/** Length limit applied by every check (configurable through registry limits). */
export interface UriLimits {
  maxUriLength: number;
}

/** Whether `hostname` (as `URL.hostname` returns it) is a loopback host. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

const NON_ASCII = /\P{ASCII}/u;

/**
 * `raw` with its host in punycode and every other non-ASCII character
 * percent-encoded as UTF-8: the form of the same URI that is accepted.
 */
function asciiForm(raw: string, url: URL): string {
  const authority = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)/.exec(raw);
  let out = raw;
  if (authority && NON_ASCII.test(authority[2]!) && url.hostname !== "") {
    const port = /:\d*$/.exec(authority[2]!)?.[0] ?? "";
    out = `${authority[1]}${url.hostname}${port}${raw.slice(authority[0].length)}`;
  }
  return out.replace(/\P{ASCII}/gu, (c) => encodeURIComponent(c));
}

function parse(raw: string, limits: UriLimits): URL | string {
  if (raw.length === 0) return "must not be empty";
  const malformed = wellFormedProblem(raw);
  if (malformed !== null) return malformed;
  if (exceedsCodePoints(raw, limits.maxUriLength)) return tooLongMessage(limits.maxUriLength);
  if (WHITESPACE_OR_CONTROL.test(raw)) return "must not contain whitespace or control characters";
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(raw)) return "must be an absolute URI with a scheme";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a valid absolute URI";
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (FORBIDDEN_SCHEMES.has(scheme)) return `the ${scheme}: scheme is not allowed`;
  if (url.username !== "" || url.password !== "" || AUTHORITY_WITH_USERINFO.test(raw)) {
    return "must not contain user information";
  }
  // The URL parser reads "\" as "/" in web URLs; refuse it rather than store an ambiguous URI.
  if (raw.includes("\\")) return "must not contain a backslash";
  return url;
}

// Checked last, once every other rule holds, so that the form it suggests is accepted.
function asciiProblem(raw: string, url: URL, limits: UriLimits): string | null {
  if (!NON_ASCII.test(raw)) return null;
  const ascii = asciiForm(raw, url);
  return exceedsCodePoints(ascii, limits.maxUriLength)
    ? `must contain only ASCII characters (RFC 3986); percent-encoded, this URI would be longer than ${limits.maxUriLength} characters`
    : `must contain only ASCII characters (RFC 3986): send ${JSON.stringify(ascii)} (non-ASCII host names in punycode, other characters percent-encoded)`;
}

/** Parses `raw`, then applies `rules` and finally the ASCII rule. */
function check(raw: string, limits: UriLimits, rules: (url: URL) => string | null): string | null {
  const url = parse(raw, limits);
  if (typeof url === "string") return url;
  return rules(url) ?? asciiProblem(raw, url, limits);
}

function checkWebUrl(url: URL, what: string): string | null {
  if (url.protocol === "https:") return url.hostname === "" ? "must have a host" : null;
  if (url.protocol === "http:") {
    return isLoopbackHost(url.hostname)
      ? null
      : `${what} must use https (http is allowed only on localhost, 127.0.0.1 or [::1])`;
  }
  return null;
}

/**
 * Checks a redirect URI or post-logout redirect URI: absolute, no fragment,
 * no user information, no wildcard; https, http on a loopback host, or a
 * private-use scheme in reverse-domain form for native apps.
 *
 * @example
 * ```ts
 * checkRedirectUri("https://app.example.com/cb", { maxUriLength: 2048 }) // null
 * checkRedirectUri("http://example.com/cb", { maxUriLength: 2048 })      // "…must use https…"
 * ```
 */
export function checkRedirectUri(raw: string, limits: UriLimits): string | null {
  return check(raw, limits, (url) => {
    if (raw.includes("#")) return "must not contain a fragment";
    if (raw.includes("*")) return "must not contain a wildcard";
    if (url.protocol === "https:" || url.protocol === "http:") return checkWebUrl(url, "redirect URI");
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    if (!REVERSE_DOMAIN_SCHEME.test(scheme)) {
      return "scheme must be https, http on a loopback host, or a private-use scheme in reverse-domain form (com.example.app:/callback)";
    }
    return null;
  });
}

/**
 * Checks an informational URL (client_uri, logo_uri, policy_uri, tos_uri):
 * https, or http on a loopback host.
 *
 * @example
 * ```ts
 * checkWebPageUrl("https://example.com/logo.png", { maxUriLength: 2048 }) // null
 * ```
 */
export function checkWebPageUrl(raw: string, limits: UriLimits): string | null {
  return check(raw, limits, (url) => {
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return "must be an https URL (http is allowed only on localhost, 127.0.0.1 or [::1])";
    }
    return checkWebUrl(url, "URL");
  });
}

/**
 * Checks a CORS origin (scheme, host and optional port only, an optional
 * trailing slash) and gives its canonical form: lower-case scheme and host,
 * no default port, no trailing slash. The registry stores origins as sent
 * and uses this form only to compare them (duplicates, {@link isCorsOriginAllowed}).
 *
 * @example
 * ```ts
 * normalizeOrigin("HTTPS://App.Example.com/", { maxUriLength: 2048 })
 * // { origin: "https://app.example.com" }
 * ```
 */
export function normalizeOrigin(
  raw: string,
  limits: UriLimits,
): { origin: string } | { error: string } {
  let origin = "";
  const error = check(raw, limits, (url) => {
    if (url.protocol !== "https:" && url.protocol !== "http:") return "an origin must use the https or http scheme";
    if (raw.includes("*")) return "must not contain a wildcard";
    if (url.hostname === "") return "must have a host";
    const afterAuthority = raw.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\\]*/, "");
    if (afterAuthority !== "" && afterAuthority !== "/") {
      return "an origin is scheme, host and optional port only (no path, query or fragment)";
    }
    origin = url.origin;
    return null;
  });
  return error === null ? { origin } : { error };
}

/**
 * Whether a request's `Origin` may call on behalf of `client`: one of its
 * `allowed_cors_origins` is the same origin, compared canonically (host
 * case, default port, trailing slash), since origins are stored as sent.
 * Anything that is not an origin (including the string "null") is refused.
 *
 * @example
 * ```ts
 * const client = { allowed_cors_origins: ["https://App.Example.com/"] };
 * isCorsOriginAllowed(client, "https://app.example.com");     // true
 * isCorsOriginAllowed(client, "https://app.example.com:443"); // true
 * isCorsOriginAllowed(client, "https://evil.example.com");    // false
 * ```
 */
export function isCorsOriginAllowed(client: { allowed_cors_origins: readonly string[] }, origin: string): boolean {
  const limits = { maxUriLength: 2048 };
  // Callers pass request headers straight through; anything but a string is a refusal, not a crash.
  if (typeof origin !== "string") return false;
  const presented = normalizeOrigin(origin, limits);
  const allowed: unknown = client?.allowed_cors_origins;
  if ("error" in presented || !Array.isArray(allowed)) return false;
  return allowed.some((entry: unknown) => {
    if (typeof entry !== "string") return false;
    const stored = normalizeOrigin(entry, { maxUriLength: Math.max(entry.length, 1) });
    return "origin" in stored && stored.origin === presented.origin;
  });
}

/** The host of a URL already accepted by {@link checkWebPageUrl}, lower-cased. */
export function hostOf(raw: string): string {
  return new URL(raw).hostname.toLowerCase();
}
