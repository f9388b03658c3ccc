import { MAX_LENGTH, truncateCodePoints } from './validation.js';

/**
 * A human label for a User-Agent ("Firefox 133 on Linux"), shown in the
 * session list when the client names no device itself. Covers the browsers and
 * tools people sign in with; anything else falls back to the product token.
 * The User-Agent is the client's to write: whatever it says, the label is a
 * valid deviceInfo (validation.ts), since it is stored as one.
 */

const BROWSERS: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/OPR\/(\d+)/, 'Opera'],
  [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/Firefox\/(\d+)/, 'Firefox'],
  [/FxiOS\/(\d+)/, 'Firefox'],
  [/CriOS\/(\d+)/, 'Chrome'],
  [/Chrome\/(\d+)/, 'Chrome'],
  [/Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\//, 'Safari'],
  [/^curl\/([\d.]+)/, 'curl'],
  [/^Bun\/([\d.]+)/, 'Bun'],
  [/^node(?:-fetch)?(?:\/([\d.]+))?$/, 'Node.js'],
  [/^PostmanRuntime\/([\d.]+)/, 'Postman'],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Windows NT/, 'Windows'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Android/, 'Android'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

// No real version is longer ("131.0.6778.205" is 14); a longer one is cut, not shown whole.
const MAX_VERSION = 20;

function label(ua: string): string {
  if (ua === '') return UNKNOWN_DEVICE;
  let browser: string | undefined;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua);
    if (match) {
      browser = match[1] ? `${name} ${match[1].slice(0, MAX_VERSION)}` : name;
      break;
    }
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  return /^[\w.-]+(?:\/[\w.-]+)?/.exec(ua)?.[0] ?? UNKNOWN_DEVICE;
}

/** The name of a device nothing says anything about. */
export const UNKNOWN_DEVICE = 'Unknown device';

export function describeUserAgent(userAgent: string): string {
  // A label is printable ASCII (a fixed name, a version of digits and dots, a product token), so length is the only rule left to apply.
  return truncateCodePoints(label(userAgent.trim()), MAX_LENGTH.deviceInfo);
}
