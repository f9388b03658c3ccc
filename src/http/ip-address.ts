import { isIP } from 'node:net';

/** The eight 16-bit groups of an address `isIP` calls IPv6 (a zone, `%eth0`, is dropped). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  // An IPv4 tail (`::ffff:192.0.2.1`) as the two groups it stands for.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const before = parse(head);
  const after = tail === undefined ? [] : parse(tail);
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

/** RFC 5952's one spelling: lower-case hex, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let run = { start: -1, length: 1 };
  for (let i = 0; i < groups.length; ) {
    let end = i;
    while (end < groups.length && groups[end] === 0) end += 1;
    if (end - i > run.length) run = { start: i, length: end - i };
    i = end === i ? i + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (run.start < 0) return hex.join(':');
  return `${hex.slice(0, run.start).join(':')}::${hex.slice(run.start + run.length).join(':')}`;
}

const isIpv4Mapped = (groups: number[]): boolean => groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;

/**
 * The address in one spelling, or null when `text` is not an IP address: an
 * IPv4 address as written, an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`,
 * what a dual-stack socket reports) as the IPv4 address, any other IPv6
 * address as RFC 5952 writes it.
 */
export function parseIpAddress(text: string): string | null {
  const version = isIP(text);
  if (version === 4) return text;
  if (version !== 6) return null;
  const groups = ipv6Groups(text);
  if (!isIpv4Mapped(groups)) return formatIpv6(groups);
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * What counts as one client address where addresses are counted: an IPv4
 * address, or the /64 of an IPv6 address (`2001:db8::/64`), which one
 * subscriber usually holds whole. Anything else (no address was known) as it is.
 */
export function addressGroup(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return `${formatIpv6([...ipv6Groups(ip).slice(0, 4), 0, 0, 0, 0])}/64`;
}
