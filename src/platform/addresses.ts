/**
 * Which IP addresses a remote fetch may connect to. The policy is an
 * allowlist for IPv6 (global unicast 2000::/3 only) and a blocklist for IPv4,
 * and every IPv6 form that carries an IPv4 address (mapped, compatible, 6to4,
 * NAT64) is judged by the IPv4 address it carries: otherwise
 * `[::ffff:127.0.0.1]` or `[2002:7f00:1::]` would reach loopback through an
 * address that does not look like it.
 *
 * Plain byte arithmetic, no node:net: the fetch transport of runtimes
 * without sockets checks literal addresses with the same policy.
 */

/** Why an address is refused; `null` from {@link classifyAddress} means it is public. */
export type AddressCategory =
  | "invalid"
  | "unspecified"
  | "loopback"
  | "private"
  | "shared"
  | "link_local"
  | "metadata"
  | "unique_local"
  | "multicast"
  | "documentation"
  | "reserved"
  | "ipv4_compatible";

type Range = readonly [AddressCategory, Uint8Array, number];

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
const IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** The 4 bytes of a dotted quad in the strict form (no leading zeros), or null. */
function ipv4Bytes(address: string): Uint8Array | null {
  return IPV4.test(address) ? Uint8Array.from(address.split("."), Number) : null;
}

/** The 16 bytes of an IPv6 address in text form (no zone id), or null when it is not one. */
function ipv6Bytes(address: string): Uint8Array | null {
  let text = address;
  let tail: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return null;
  if (text.slice(lastColon + 1).includes(".")) {
    tail = ipv4Bytes(text.slice(lastColon + 1));
    if (tail === null) return null;
    // Two groups stand in for the dotted quad so the group count works out.
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const split = (part: string) => (part === "" ? [] : part.split(":"));
  const head = split(halves[0]!);
  const rest = halves.length === 2 ? split(halves[1]!) : [];
  const total = head.length + rest.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  const groups = halves.length === 2 ? [...head, ...new Array<string>(8 - total).fill("0"), ...rest] : head;
  const bytes = new Uint8Array(16);
  for (const [i, group] of groups.entries()) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  if (tail !== null) bytes.set(tail, 12);
  return bytes;
}

function range(category: AddressCategory, network: string, prefix: number): Range {
  const bytes = network.includes(":") ? ipv6Bytes(network) : ipv4Bytes(network);
  if (bytes === null) throw new Error(`bad network ${network}`);
  return [category, bytes, prefix];
}

function inRange(bytes: Uint8Array, network: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const mask = prefix - bit >= 8 ? 0xff : (0xff << (8 - (prefix - bit))) & 0xff;
    const i = bit / 8;
    if (((bytes[i]! ^ network[i]!) & mask) !== 0) return false;
  }
  return true;
}

// IANA IPv4 Special-Purpose Address Registry, plus multicast and class E.
// Metadata comes before link-local so 169.254.169.254 is named for what it is.
const IPV4_RANGES: readonly Range[] = [
  range("metadata", "169.254.169.254", 32),
  range("metadata", "169.254.170.2", 32), // container credential endpoint
  range("metadata", "100.100.100.200", 32), // a cloud metadata address inside CGNAT space
  range("unspecified", "0.0.0.0", 8),
  range("private", "10.0.0.0", 8),
  range("shared", "100.64.0.0", 10),
  range("loopback", "127.0.0.0", 8),
  range("link_local", "169.254.0.0", 16),
  range("private", "172.16.0.0", 12),
  range("reserved", "192.0.0.0", 24),
  range("documentation", "192.0.2.0", 24),
  range("reserved", "192.88.99.0", 24),
  range("private", "192.168.0.0", 16),
  range("reserved", "198.18.0.0", 15),
  range("documentation", "198.51.100.0", 24),
  range("documentation", "203.0.113.0", 24),
  range("multicast", "224.0.0.0", 4),
  range("reserved", "240.0.0.0", 4),
];

// Inside global unicast (2000::/3) the special-purpose blocks that are not
// reachable public hosts; everything outside 2000::/3 is refused anyway.
const IPV6_RANGES: readonly Range[] = [
  range("reserved", "2001::", 23), // IETF protocol assignments, Teredo, ORCHID
  range("documentation", "2001:db8::", 32),
  range("documentation", "3fff::", 20),
];

const GLOBAL_UNICAST = range("reserved", "2000::", 3);

// Names for refusals outside 2000::/3, for clearer errors only.
const IPV6_OUTSIDE: readonly Range[] = [
  range("metadata", "fd00:ec2::254", 128),
  range("unique_local", "fc00::", 7),
  range("link_local", "fe80::", 10),
  range("link_local", "fec0::", 10), // deprecated site-local
  range("multicast", "ff00::", 8),
];

function classifyIPv4(bytes: Uint8Array): AddressCategory | null {
  for (const [category, network, prefix] of IPV4_RANGES) if (inRange(bytes, network, prefix)) return category;
  return null;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function classifyIPv6(bytes: Uint8Array): AddressCategory | null {
  // ::ffff:a.b.c.d (IPv4-mapped) reaches the IPv4 host on dual-stack sockets.
  if (allZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return classifyIPv4(bytes.subarray(12));
  if (allZero(bytes, 0, 12)) {
    if (allZero(bytes, 12, 15)) return bytes[15] === 1 ? "loopback" : bytes[15] === 0 ? "unspecified" : "ipv4_compatible";
    // ::a.b.c.d is deprecated (RFC 4291 §2.5.5.1); no public host uses it.
    return "ipv4_compatible";
  }
  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052), carries the IPv4 address in its last 32 bits.
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(bytes, 4, 12)) {
    return classifyIPv4(bytes.subarray(12));
  }
  // 2002::/16 (6to4, RFC 3056) carries the IPv4 address in bytes 2..5.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyIPv4(bytes.subarray(2, 6));
  if (!inRange(bytes, GLOBAL_UNICAST[1], GLOBAL_UNICAST[2])) {
    for (const [category, network, prefix] of IPV6_OUTSIDE) if (inRange(bytes, network, prefix)) return category;
    return "reserved";
  }
  for (const [category, network, prefix] of IPV6_RANGES) if (inRange(bytes, network, prefix)) return category;
  return null;
}

/**
 * 4 for a dotted quad, 6 for IPv6 text (no brackets, no zone id), 0 for
 * anything else, such as a host name.
 *
 * @example
 * ```ts
 * ipFamily("10.0.0.1"); // 4
 * ipFamily("::1");      // 6
 * ipFamily("app.example"); // 0
 * ```
 */
export function ipFamily(address: string): 0 | 4 | 6 {
  if (ipv4Bytes(address) !== null) return 4;
  return ipv6Bytes(address) !== null ? 6 : 0;
}

/**
 * Why a remote fetch must not connect to `address`, or `null` when it is a
 * public unicast address. Accepts IPv4 dotted quads and IPv6 text (with or
 * without brackets); anything else, including an IPv6 zone id, is "invalid".
 *
 * @example
 * ```ts
 * classifyAddress("10.0.0.1");          // "private"
 * classifyAddress("[::ffff:7f00:1]");   // "loopback"
 * classifyAddress("2606:4700::1111");   // null
 * ```
 */
export function classifyAddress(address: string): AddressCategory | null {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  const v4 = ipv4Bytes(bare);
  if (v4 !== null) return classifyIPv4(v4);
  const v6 = ipv6Bytes(bare);
  return v6 === null ? "invalid" : classifyIPv6(v6);
}

/**
 * The default address policy of remote fetches: true only for public
 * unicast addresses (see {@link classifyAddress}).
 *
 * @example
 * ```ts
 * isPublicAddress("169.254.169.254"); // false
 * isPublicAddress("93.184.215.14");   // true
 * ```
 */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === null;
}
