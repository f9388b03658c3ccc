import { SocketAddress } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressGroup, parseIpAddress } from './ip-address.js';

describe('parseIpAddress()', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:DB8:0:0:1::7', '2001:db8::1:0:0:7'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['::1', '::1'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8::', '2001:db8::'],
  ])('%s is %s', (text, address) => {
    expect(parseIpAddress(text)).toBe(address);
  });

  it.each(['', 'unknown', '203.0.113.7:443', '[::1]', ' 203.0.113.7', '999.1.1.1', '01.2.3.4', '<script>', '2001:db8::1::2'])('%j is no address', (text) => {
    expect(parseIpAddress(text)).toBeNull();
  });

  it("writes any IPv6 address as Node's own formatter does (RFC 5952), and reads it back the same", () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
        const address = parseIpAddress(full);
        expect(parseIpAddress(address!)).toBe(address);
        const node = new SocketAddress({ address: full, family: 'ipv6' }).address;
        // Node writes IPv4-mapped addresses as ::ffff:a.b.c.d (here: the IPv4 address), and the
        // deprecated IPv4-compatible ones (::a.b.c.d) too, which RFC 5952 writes in hex.
        if (node.startsWith('::ffff:') && node.includes('.')) expect(address).toBe(node.slice(7));
        else if (!node.includes('.')) expect(address).toBe(node);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('addressGroup()', () => {
  it('is an IPv4 address itself, and the /64 of an IPv6 address', () => {
    expect(addressGroup('203.0.113.7')).toBe('203.0.113.7');
    expect(['2001:db8::2', '2001:db8::9', '2001:db8:0:0:ffff:ffff:ffff:ffff'].map(addressGroup)).toEqual(Array(3).fill('2001:db8::/64'));
    expect(addressGroup('2001:db8:0:1::2')).toBe('2001:db8:0:1::/64');
    expect(addressGroup('unknown')).toBe('unknown');
  });
});
