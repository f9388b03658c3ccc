import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeUserAgent } from './device.js';
import { codePointLength, MAX_LENGTH, validateDeviceInfo } from './validation.js';

describe('describeUserAgent()', () => {
  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox 133 on Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome 131 on Windows'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 'Edge 131 on Windows'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 'Safari 18 on iOS'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15', 'Safari 17 on macOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome 131 on Android'],
    ['curl/8.5.0', 'curl 8.5.0'],
    ['node', 'Node.js'],
    ['MyApp/2.1 (custom)', 'MyApp/2.1'],
    ['', 'Unknown device'],
  ])('%s → %s', (ua, label) => {
    expect(describeUserAgent(ua)).toBe(label);
  });

  // The label is stored as the session's deviceInfo: it must pass the rule a client's own deviceInfo passes.
  const expectValidDeviceInfo = (ua: string): void => {
    const label = describeUserAgent(ua);
    expect(validateDeviceInfo(label)).toBe(label);
    expect(codePointLength(label)).toBeLessThanOrEqual(MAX_LENGTH.deviceInfo);
  };

  it('gives a valid deviceInfo for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 2000, size: 'max' }), expectValidDeviceInfo), { numRuns: 2000 });
  });

  it('gives a valid deviceInfo for any User-Agent shaped like a browser or tool, whatever its version', () => {
    const product = fc.constantFrom(
      'Chrome/', 'CriOS/', 'Edg/', 'EdgA/', 'OPR/', 'SamsungBrowser/', 'Firefox/', 'FxiOS/', 'Version/', 'curl/', 'Bun/', 'node/', 'PostmanRuntime/', 'MyApp/',
    );
    const version = fc.stringMatching(/^[\d.]{0,1000}$/, { size: 'max' });
    const around = fc.string({ unit: 'grapheme', maxLength: 40 });
    const system = fc.constantFrom('', ' (Windows NT 10.0)', ' (iPhone; CPU iPhone OS 18_1 like Mac OS X)', ' (X11; Linux x86_64)', ' Android');
    const ua = fc.tuple(fc.constantFrom('', 'Mozilla/5.0'), system, product, version, fc.constantFrom('', ' Safari/604.1', ' Mobile/15E148 Safari/604.1'), around);
    fc.assert(
      fc.property(ua, ([head, os, name, v, tail, extra]) => {
        expectValidDeviceInfo(`${head}${os} ${name}${v}${tail}${extra}`);
        expectValidDeviceInfo(`${name}${v}${tail}`);
      }),
      { numRuns: 2000 },
    );
  });
});
