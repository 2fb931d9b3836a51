// Which "client" a per-IP limit counts. An IPv4 address is one client; an IPv6 subscriber is
// normally given a whole /64 (RFC 6177 recommends at least that per site), so counting single IPv6
// addresses would let one machine pick a fresh address for every attempt. Limits therefore count
// IPv6 clients by their /64 prefix.
import { isIPv4, isIPv6 } from 'node:net';

/** Expands an IPv6 address (without zone or brackets) into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  let tail: number[] = [];
  // an embedded IPv4 tail (::ffff:192.0.2.1, 64:ff9b::192.0.2.1) is two groups
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split('.').map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const head = parse(halves[0]);
  const rest = parse(halves[1]);
  const groups = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups;
}

/**
 * The key a per-client limit counts under: the IPv4 address, or the /64 of an IPv6 address written as
 * `2001:db8:1:2::/64`. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as its IPv4 address; brackets, a
 * zone id and an IPv4 `:port` suffix (some proxies add one) are ignored. Anything unreadable is
 * counted as itself, so it still meets a limit.
 */
export function clientNetwork(ip: string | undefined): string {
  if (!ip) return 'unknown';
  let address = ip.trim();
  if (address.startsWith('[')) address = address.slice(1, address.indexOf(']') > 0 ? address.indexOf(']') : undefined);
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(address);
  if (v4WithPort?.[1]) address = v4WithPort[1];
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address.toLowerCase();
  const groups = ipv6Groups(address.toLowerCase());
  if (!groups) return address.toLowerCase();
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6] ?? 0, groups[7] ?? 0].flatMap((g) => [g >> 8, g & 0xff]).join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
