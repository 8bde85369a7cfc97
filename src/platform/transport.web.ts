/**
 * Outbound JSON fetches on runtimes without socket access (workerd,
 * browsers): the platform's `fetch`, with the bounds of the Node transport
 * (https only, no redirects, a JSON content type, identity encoding, a size
 * cap on Content-Length and while reading, one total timeout) and the
 * address checks that need no socket: a literal IP host is held to the
 * same policy, and `localhost` names are refused. What it cannot check is
 * where a host NAME leads: `fetch` resolves and connects on its own, so a
 * name whose DNS answer is a private address is not caught here
 * (docs/security.md, "Fetching what clients name").
 */
import { classifyAddress, ipFamily } from "./addresses.js";
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
import type { FetchFunction } from "./types.js";

/** Options of {@link createFetchTransport}. */
export interface FetchTransportOptions {
  /** Total time for connect, headers and body. Default 5000 ms. */
  timeoutMs?: number;
  /** Default body cap in bytes when a call names none. Default 5120 (5 KiB). */
  maxBytes?: number;
  /** Longest URL accepted. Default 2048 characters. */
  maxUrlLength?: number;
  /** User-Agent header, where the platform lets it be set. Default `oauth-client-registry`. */
  userAgent?: string;
  /** The `fetch` to call. Default the platform's. */
  fetch?: FetchFunction;
  /**
   * Policy for a literal IP host (`https://10.0.0.1/…`); one refusal refuses
   * the fetch. Default: public unicast addresses only.
   */
  isAllowedAddress?: (address: string, family: 4 | 6) => boolean;
}

/** `localhost` and its subdomains always mean this machine (RFC 6761 §6.3). */
function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * A fetcher of JSON documents from untrusted https URLs over the platform's
 * `fetch`: the default transport of Client ID Metadata Documents and
 * `jwks_uri` key sets wherever the "node" package condition does not apply.
 *
 * @example
 * ```ts
 * const { fetchJson } = createFetchTransport({ timeoutMs: 3000 });
 * const { value, maxAgeSeconds } = await fetchJson("https://app.example/client.json");
 * ```
 */
export function createFetchTransport(options: FetchTransportOptions = {}): SafeFetcher {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultMaxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxUrlLength = options.maxUrlLength ?? DEFAULT_MAX_URL_LENGTH;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  const isAllowedAddress = options.isAllowedAddress ?? ((address: string) => classifyAddress(address) === null);
  positiveIntegerOption("createFetchTransport", "timeoutMs", timeoutMs);
  positiveIntegerOption("createFetchTransport", "maxBytes", defaultMaxBytes);

  async function fetchJson(input: string, callOptions: FetchJsonOptions = {}): Promise<FetchJsonResult> {
    const url = parseRemoteUrl(input, maxUrlLength);
    const maxBytes = callOptions.maxBytes ?? defaultMaxBytes;
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    // The URL parser has already turned 2130706433 and 0x7f.1 into 127.0.0.1.
    const family = ipFamily(host);
    if (family !== 0 ? !isAllowedAddress(host, family) : isLocalhostName(host)) {
      const category = family === 0 ? "loopback" : (classifyAddress(host) ?? "refused by the address policy");
      throw new RemoteFetchError("forbidden_address", input, `Refused to fetch ${input}: ${host}, a ${String(category).replace("_", "-")} address.`);
    }

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const failure = (error: unknown, status?: number): RemoteFetchError => {
      if (error instanceof RemoteFetchError) return error;
      if (timedOut) return new RemoteFetchError("timeout", input, `Fetching ${input} took longer than ${timeoutMs} ms.`);
      return new RemoteFetchError("connection", input, `Fetching ${input} failed.`, { cause: error, ...(status === undefined ? {} : { status }) });
    };
    let response: Response;
    try {
      response = await (options.fetch ?? globalThis.fetch)(url, {
        method: "GET",
        redirect: "manual",
        headers: { accept: callOptions.accept ?? "application/json", "user-agent": userAgent, "accept-encoding": "identity" },
        signal: controller.signal,
      });
    } catch (error) {
      clearTimeout(timer);
      throw failure(error);
    }
    const status = response.status;
    try {
      const refuse = (reason: RemoteFetchError["reason"], message: string): never => {
        throw new RemoteFetchError(reason, input, message, { status });
      };
      // A browser's manual redirect is an opaque response with status 0.
      if ((status >= 300 && status < 400) || response.type === "opaqueredirect") {
        refuse("redirect", `${input} answered ${status}, a redirect; redirects are not followed.`);
      }
      if (status !== 200) refuse("http_status", `${input} answered HTTP ${status}.`);
      const encoding = response.headers.get("content-encoding");
      if (encoding !== null && encoding.trim().toLowerCase() !== "identity") {
        refuse("content_encoding", `${input} sent an encoded body (${encoding}); only identity is accepted.`);
      }
      const type = response.headers.get("content-type");
      if (!isJsonMediaType(type)) {
        refuse("content_type", `${input} answered with content type ${JSON.stringify(type ?? "")}; expected application/json.`);
      }
      const announced = response.headers.get("content-length");
      if (announced !== null && Number(announced) > maxBytes) {
        refuse("too_large", `${input} announced ${announced} bytes; the limit is ${maxBytes}.`);
      }
      const body = await readCapped(response, maxBytes, () => refuse("too_large", `${input} sent more than ${maxBytes} bytes.`));
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
      } catch {
        refuse("not_json", `${input} did not send valid UTF-8 JSON.`);
      }
      const cache = parseCacheControl(response.headers.get("cache-control"));
      return { value, maxAgeSeconds: cache.maxAgeSeconds, noStore: cache.noStore, status };
    } catch (error) {
      controller.abort();
      await response.body?.cancel().catch(() => {});
      throw failure(error, status);
    } finally {
      clearTimeout(timer);
    }
  }

  return { fetchJson };
}

/** Reads a body up to `maxBytes`, calling `tooLarge` (which throws) past it. */
async function readCapped(response: Response, maxBytes: number, tooLarge: () => never): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(received);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** What `#platform/transport` gives outside Node: the `fetch` transport with its default bounds. */
export function createDefaultFetcher(): SafeFetcher {
  return createFetchTransport();
}

/** How the default transport reaches the network: `fetch`, with literal-address checks only. */
export const DEFAULT_TRANSPORT = "fetch" as const;
