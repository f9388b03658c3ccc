import { readFileSync } from 'node:fs';
import { findRepoFile } from '../repo-files.js';

/** The page's CSP: its own script files (no inline script), its inline style, calls to this origin, nothing else. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

const JS = 'text/javascript; charset=utf-8';

/** What `/devices` serves: the page and its script modules, each a file of public/. */
const FILES: Record<string, { file: string; contentType: string }> = {
  '/devices': { file: 'public/devices.html', contentType: 'text/html; charset=utf-8' },
  '/devices.js': { file: 'public/devices.js', contentType: JS },
  '/devices-graphql.js': { file: 'public/devices-graphql.js', contentType: JS },
  '/devices-text.js': { file: 'public/devices-text.js', contentType: JS },
};

/** One static file that ships beside the code, read once, or 404 if the installation lacks it. */
function staticFile(file: string, contentType: string): () => Response {
  const path = findRepoFile(file);
  const text = path ? readFileSync(path, 'utf8') : undefined;
  return () =>
    text === undefined
      ? new Response(`${file} is missing from this installation\n`, { status: 404, headers: { 'content-type': 'text/plain' } })
      : new Response(text, { headers: { 'content-type': contentType, 'cache-control': 'no-cache', 'content-security-policy': CSP } });
}

/**
 * `GET /devices` and its scripts (public/devices.html, devices.js and the modules it imports): static files that
 * use only the public API. The answer for a path, or null if it is none of them.
 */
export function createDevicesPage(): (pathname: string) => Response | null {
  const served = new Map(Object.entries(FILES).map(([pathname, { file, contentType }]) => [pathname, staticFile(file, contentType)]));
  return (pathname) => served.get(pathname)?.() ?? null;
}
