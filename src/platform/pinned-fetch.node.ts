/**
 * Fetching JSON from URLs that untrusted parties choose (Client ID Metadata
 * Documents, `jwks_uri`). The fetcher resolves the host itself, refuses the
 * request if any answer is a non-public address, and then makes node:https
 * connect to exactly the address it checked, so a DNS answer that changes
 * between check and connect (rebinding) cannot steer the connection. TLS
 * still uses the host name for SNI and certificate validation.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupOptions } from "node:dns";
import type { IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { classifyAddress, isPublicAddress } from "./addresses.js";
import { RemoteFetchError } from "./errors.js";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_URL_LENGTH,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  isJsonMediaType,
  parseCacheControl,
  parseRemoteUrl,
  positiveIntegerOption,
  type FetchJsonOptions,
  type FetchJsonResult,
  type SafeFetcher,
} from "./transport.js";

export {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_URL_LENGTH,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_USER_AGENT,
  parseRemoteUrl,
  type FetchJsonOptions,
  type FetchJsonResult,
  type SafeFetcher,
};

/** One answer of a {@link RemoteLookup}, as `dns.promises.lookup` gives it. */
export interface LookupAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses, like `dns.promises.lookup(host, { all: true })`. */
export type RemoteLookup = (hostname: string, options: { all: true }) => Promise<readonly LookupAddress[]>;

/** Options of {@link createSafeFetcher}. */
export interface SafeFetcherOptions {
  /** Total time for DNS, connect, TLS, headers and body. Default 5000 ms. */
  timeoutMs?: number;
  /** Default body cap in bytes when a call names none. Default 5120 (5 KiB). */
  maxBytes?: number;
  /** Longest URL accepted. Default 2048 characters. */
  maxUrlLength?: number;
  /** Host name resolution. Default `dns.promises.lookup`. */
  lookup?: RemoteLookup;
  /**
   * Address policy, asked for every resolved or literal address; one refusal
   * refuses the fetch. Default {@link isPublicAddress}. Replace it only to
   * narrow the policy, or in tests that serve from a loopback address.
   */
  isAllowedAddress?: (address: string, family: 4 | 6) => boolean;
  /** Trusted CA certificates (PEM) in place of the system's. Default: the system's. */
  ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array>;
  /** User-Agent header. Default `oauth-client-registry`. */
  userAgent?: string;
}

const TLS_ERROR_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

function errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") return error.code;
  return "";
}

function isTlsError(error: unknown): boolean {
  const code = errorCode(error);
  return TLS_ERROR_CODES.has(code) || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_");
}

/**
 * Creates a fetcher of JSON documents from untrusted https URLs, safe by
 * construction against server-side request forgery: https only; no
 * credentials or fragment in the URL; the host is resolved once and refused
 * if ANY address is loopback, private, link-local, unique-local, multicast,
 * CGNAT, a cloud metadata address, documentation or reserved space, or an
 * IPv6 form embedding such an IPv4 address; the socket connects only to
 * addresses so checked, with TLS verified against the host name; no redirects; a JSON content type; a size cap enforced
 * on Content-Length and while streaming; one total timeout that destroys the
 * socket; no cookies or credentials sent.
 *
 * @example
 * ```ts
 * import { createSafeFetcher } from "oauth-client-registry/remote";
 *
 * const { fetchJson } = createSafeFetcher({ timeoutMs: 3000 });
 * const { value, maxAgeSeconds } = await fetchJson("https://app.example/client.json");
 * ```
 */
export function createSafeFetcher(options: SafeFetcherOptions = {}): SafeFetcher {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultMaxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxUrlLength = options.maxUrlLength ?? DEFAULT_MAX_URL_LENGTH;
  const lookup: RemoteLookup = options.lookup ?? ((hostname, lookupOptions) => dnsLookup(hostname, lookupOptions));
  const isAllowedAddress = options.isAllowedAddress ?? ((address: string) => isPublicAddress(address));
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  // node:tls reads certificates from strings and Buffers (a Uint8Array is copied into one).
  const asCa = (value: string | Uint8Array): string | Buffer => (typeof value === "string" || Buffer.isBuffer(value) ? value : Buffer.from(value));
  const ca: string | Buffer | Array<string | Buffer> | undefined =
    options.ca === undefined
      ? undefined
      : typeof options.ca === "string" || options.ca instanceof Uint8Array
        ? asCa(options.ca as string | Uint8Array)
        : (options.ca as ReadonlyArray<string | Uint8Array>).map(asCa);
  positiveIntegerOption("createSafeFetcher", "timeoutMs", timeoutMs);
  positiveIntegerOption("createSafeFetcher", "maxBytes", defaultMaxBytes);

  function refuseAddress(input: string, host: string, address: string): RemoteFetchError {
    const category = classifyAddress(address);
    const why = category === null ? "refused by the address policy" : `a ${category.replace("_", "-")} address`;
    const shown = address === host ? address : `${host} resolves to ${address}`;
    return new RemoteFetchError("forbidden_address", input, `Refused to fetch ${input}: ${shown}, ${why}.`);
  }

  /** Every address of the host, each one checked against the policy. */
  async function resolveTargets(input: string, host: string): Promise<Array<{ address: string; family: 4 | 6 }>> {
    const literal = isIP(host);
    if (literal !== 0) {
      const family = literal as 4 | 6;
      if (!isAllowedAddress(host, family)) throw refuseAddress(input, host, host);
      return [{ address: host, family }];
    }
    let answers: readonly LookupAddress[];
    try {
      answers = await lookup(host, { all: true });
    } catch (error) {
      throw new RemoteFetchError("dns_failure", input, `Could not resolve ${host} (${errorCode(error) || "lookup failed"}).`, {
        cause: error,
      });
    }
    if (!Array.isArray(answers) || answers.length === 0) {
      throw new RemoteFetchError("dns_failure", input, `${host} resolved to no address.`);
    }
    // Every answer is checked, not only the one used: a name that mixes public
    // and private answers is refused outright.
    const targets: Array<{ address: string; family: 4 | 6 }> = [];
    for (const answer of answers) {
      const family = isIP(answer.address);
      if (family === 0 || !isAllowedAddress(answer.address, family as 4 | 6)) {
        throw refuseAddress(input, host, answer.address);
      }
      targets.push({ address: answer.address, family: family as 4 | 6 });
    }
    return targets;
  }

  function fetchJson(input: string, callOptions: FetchJsonOptions = {}): Promise<FetchJsonResult> {
    let url: URL;
    try {
      url = parseRemoteUrl(input, maxUrlLength);
    } catch (error) {
      return Promise.reject(error);
    }
    const maxBytes = callOptions.maxBytes ?? defaultMaxBytes;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;

    return new Promise<FetchJsonResult>((resolve, reject) => {
      let settled = false;
      let destroy: (() => void) | undefined;
      const fail = (error: RemoteFetchError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        destroy?.();
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new RemoteFetchError("timeout", input, `Fetching ${input} took longer than ${timeoutMs} ms.`));
      }, timeoutMs);

      const onResponse = (response: IncomingMessage): void => {
        const status = response.statusCode ?? 0;
        response.on("error", (error) => {
          fail(new RemoteFetchError("connection", input, `Reading ${input} failed.`, { status, cause: error }));
        });
        const refuse = (reason: RemoteFetchError["reason"], message: string): void =>
          fail(new RemoteFetchError(reason, input, message, { status }));
        if (status >= 300 && status < 400) {
          return refuse("redirect", `${input} answered ${status}, a redirect; redirects are not followed.`);
        }
        if (status !== 200) return refuse("http_status", `${input} answered HTTP ${status}.`);
        const encoding = response.headers["content-encoding"];
        if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
          return refuse("content_encoding", `${input} sent an encoded body (${encoding}); only identity is accepted.`);
        }
        if (!isJsonMediaType(response.headers["content-type"])) {
          return refuse(
            "content_type",
            `${input} answered with content type ${JSON.stringify(response.headers["content-type"] ?? "")}; expected application/json.`,
          );
        }
        const announced = response.headers["content-length"];
        if (announced !== undefined && Number(announced) > maxBytes) {
          return refuse("too_large", `${input} announced ${announced} bytes; the limit is ${maxBytes}.`);
        }
        const chunks: Buffer[] = [];
        let received = 0;
        response.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) {
            refuse("too_large", `${input} sent more than ${maxBytes} bytes.`);
            return;
          }
          chunks.push(chunk);
        });
        response.on("end", () => {
          if (settled) return;
          let value: unknown;
          try {
            value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks)));
          } catch {
            return refuse("not_json", `${input} did not send valid UTF-8 JSON.`);
          }
          const cache = parseCacheControl(response.headers["cache-control"]);
          settled = true;
          clearTimeout(timer);
          resolve({ value, maxAgeSeconds: cache.maxAgeSeconds, noStore: cache.noStore, status });
        });
        response.on("close", () => {
          if (!response.complete) refuse("connection", `${input} closed the connection before the body ended.`);
        });
      };

      resolveTargets(input, host).then((targets) => {
        if (settled) return;
        const first = targets[0] as { address: string; family: 4 | 6 };
        // net calls this instead of DNS, so the socket can only reach addresses that were checked
        // (all of them when net tries several families, as its happy-eyeballs connect does).
        const pinnedLookup = (
          _hostname: string,
          lookupOptions: LookupOptions,
          callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
        ): void => {
          if (lookupOptions.all === true) callback(null, targets.map((target) => ({ ...target })));
          else callback(null, first.address, first.family);
        };
        let request: ReturnType<typeof httpsRequest>;
        try {
          request = httpsRequest({
            protocol: "https:",
            hostname: host,
            port: url.port === "" ? 443 : Number(url.port),
            path: `${url.pathname}${url.search}`,
            method: "GET",
            headers: { accept: callOptions.accept ?? "application/json", "user-agent": userAgent, "accept-encoding": "identity" },
            // A fresh agent per request: no pooled socket connected to an earlier answer, no session state.
            agent: false,
            lookup: pinnedLookup,
            // Documents are a few KiB; there is no reason to accept 16 KiB of headers.
            maxHeaderSize: 8 * 1024,
            // SNI and certificate checks use the name, never the pinned address.
            ...(isIP(host) === 0 ? { servername: host.replace(/\.$/, "") } : {}),
            ...(ca === undefined ? {} : { ca }),
          });
        } catch (error) {
          // e.g. a userAgent option with characters a header cannot carry
          fail(new RemoteFetchError("connection", input, `Could not start the request to ${host}.`, { cause: error }));
          return;
        }
        destroy = () => request.destroy();
        request.on("response", onResponse);
        request.on("error", (error) => {
          if (isTlsError(error)) {
            fail(new RemoteFetchError("tls", input, `TLS with ${host} failed (${errorCode(error)}).`, { cause: error }));
          } else {
            fail(
              new RemoteFetchError("connection", input, `Connecting to ${host} failed (${errorCode(error) || "error"}).`, {
                cause: error,
              }),
            );
          }
        });
        request.end();
      }, (error: unknown) => {
        fail(
          error instanceof RemoteFetchError
            ? error
            : new RemoteFetchError("forbidden_address", input, `Refused to fetch ${input}: the address check failed.`, { cause: error }),
        );
      });
    });
  }

  return { fetchJson };
}
