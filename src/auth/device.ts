/**
 * A human label for a User-Agent ("Firefox 133 on Linux"), shown in the
 * session list when the client names no device itself. Covers the browsers and
 * tools people sign in with; anything else falls back to the product token.
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

export function describeUserAgent(userAgent: string): string {
  const ua = userAgent.trim();
  if (ua === '') return 'Unknown device';
  let browser: string | undefined;
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(ua);
    if (match) {
      browser = match[1] ? `${name} ${match[1]}` : name;
      break;
    }
  }
  const system = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  const product = /^[\w.-]+(?:\/[\w.-]+)?/.exec(ua)?.[0];
  return (product ?? 'Unknown device').slice(0, 200);
}
