/**
 * Which IP addresses a remote fetch may connect to. The policy is an
 * allowlist for IPv6 (global unicast 2000::/3 only) and a blocklist for IPv4,
 * and every IPv6 form that carries an IPv4 address (mapped, compatible, 6to4,
 * NAT64) is judged by the IPv4 address it carries: otherwise
 * `[::ffff:127.0.0.1]` or `[2002:7f00:1::]` would reach loopback through an
 * address that does not look like it.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

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

interface Range {
  readonly category: AddressCategory;
  readonly list: BlockList;
}

function ranges(family: "ipv4" | "ipv6", table: ReadonlyArray<readonly [AddressCategory, string, number]>): Range[] {
  // One list per category so a refusal can say which rule matched.
  const byCategory = new Map<AddressCategory, BlockList>();
  for (const [category, network, prefix] of table) {
    let list = byCategory.get(category);
    if (list === undefined) {
      list = new BlockList();
      byCategory.set(category, list);
    }
    list.addSubnet(network, prefix, family);
  }
  return [...byCategory].map(([category, list]) => ({ category, list }));
}

// IANA IPv4 Special-Purpose Address Registry, plus multicast and class E.
// Metadata comes before link-local so 169.254.169.254 is named for what it is.
const IPV4_RANGES = ranges("ipv4", [
  ["metadata", "169.254.169.254", 32],
  ["metadata", "169.254.170.2", 32], // container credential endpoint
  ["metadata", "100.100.100.200", 32], // a cloud metadata address inside CGNAT space
  ["unspecified", "0.0.0.0", 8],
  ["private", "10.0.0.0", 8],
  ["shared", "100.64.0.0", 10],
  ["loopback", "127.0.0.0", 8],
  ["link_local", "169.254.0.0", 16],
  ["private", "172.16.0.0", 12],
  ["reserved", "192.0.0.0", 24],
  ["documentation", "192.0.2.0", 24],
  ["reserved", "192.88.99.0", 24],
  ["private", "192.168.0.0", 16],
  ["reserved", "198.18.0.0", 15],
  ["documentation", "198.51.100.0", 24],
  ["documentation", "203.0.113.0", 24],
  ["multicast", "224.0.0.0", 4],
  ["reserved", "240.0.0.0", 4],
]);

// Inside global unicast (2000::/3) the special-purpose blocks that are not
// reachable public hosts; everything outside 2000::/3 is refused anyway.
const IPV6_RANGES = ranges("ipv6", [
  ["reserved", "2001::", 23], // IETF protocol assignments, Teredo, ORCHID
  ["documentation", "2001:db8::", 32],
  ["documentation", "3fff::", 20],
]);

const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet("2000::", 3, "ipv6");

// Names for refusals outside 2000::/3, for clearer errors only.
const IPV6_OUTSIDE = ranges("ipv6", [
  ["metadata", "fd00:ec2::254", 128],
  ["unique_local", "fc00::", 7],
  ["link_local", "fe80::", 10],
  ["link_local", "fec0::", 10], // deprecated site-local
  ["multicast", "ff00::", 8],
]);

function classifyIPv4(address: string): AddressCategory | null {
  for (const range of IPV4_RANGES) if (range.list.check(address, "ipv4")) return range.category;
  return null;
}

/** The 16 bytes of an IPv6 address already accepted by `net.isIPv6`. */
function ipv6Bytes(address: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    for (const part of last.split(".")) tail.push(Number(part));
    // Two groups stand in for the dotted quad so the group count works out.
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}

function dotted(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

function allZero(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
  return true;
}

function classifyIPv6(address: string): AddressCategory | null {
  const bytes = ipv6Bytes(address);
  // ::ffff:a.b.c.d (IPv4-mapped) reaches the IPv4 host on dual-stack sockets.
  if (allZero(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return classifyIPv4(dotted(bytes, 12));
  if (allZero(bytes, 0, 12)) {
    if (allZero(bytes, 12, 15)) return bytes[15] === 1 ? "loopback" : bytes[15] === 0 ? "unspecified" : "ipv4_compatible";
    // ::a.b.c.d is deprecated (RFC 4291 §2.5.5.1); no public host uses it.
    return "ipv4_compatible";
  }
  // 64:ff9b::/96, the NAT64 well-known prefix (RFC 6052), carries the IPv4 address in its last 32 bits.
  if (bytes[0] === 0 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && allZero(bytes, 4, 12)) {
    return classifyIPv4(dotted(bytes, 12));
  }
  // 2002::/16 (6to4, RFC 3056) carries the IPv4 address in bytes 2..5.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyIPv4(dotted(bytes, 2));
  if (!GLOBAL_UNICAST.check(address, "ipv6")) {
    for (const range of IPV6_OUTSIDE) if (range.list.check(address, "ipv6")) return range.category;
    return "reserved";
  }
  for (const range of IPV6_RANGES) if (range.list.check(address, "ipv6")) return range.category;
  return null;
}

/**
 * Why a remote fetch must not connect to `address`, or `null` when it is a
 * public unicast address. Accepts IPv4 dotted quads and IPv6 text (with or
 * without brackets); anything else, including an IPv6 zone id, is "invalid".
 *
 * @example
 * classifyAddress("10.0.0.1");          // "private"
 * classifyAddress("[::ffff:7f00:1]");   // "loopback"
 * classifyAddress("2606:4700::1111");   // null
 */
export function classifyAddress(address: string): AddressCategory | null {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (isIPv4(bare)) return classifyIPv4(bare);
  // A zone id (fe80::1%eth0) only makes sense for link-local addresses.
  if (isIPv6(bare) && !bare.includes("%")) return classifyIPv6(bare.toLowerCase());
  return "invalid";
}

/**
 * The default address policy of remote fetches: true only for public
 * unicast addresses (see {@link classifyAddress}).
 *
 * @example
 * isPublicAddress("169.254.169.254"); // false
 * isPublicAddress("93.184.215.14");   // true
 */
export function isPublicAddress(address: string): boolean {
  return classifyAddress(address) === null;
}
