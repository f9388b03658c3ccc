import { readFileSync } from 'node:fs';
import { findRepoFile } from '../repo-files.js';

/**
 * `GET /devices`: the device page (public/devices.html), one static file that
 * uses only the public API. Read once; its own CSP allows its inline script and
 * style and calls to this origin, nothing else.
 */
export function createDevicesPage(): () => Response {
  const path = findRepoFile('public/devices.html');
  const html = path ? readFileSync(path, 'utf8') : undefined;
  return () =>
    html === undefined
      ? new Response('public/devices.html is missing from this installation\n', { status: 404, headers: { 'content-type': 'text/plain' } })
      : new Response(html, {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-cache',
            'content-security-policy':
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
          },
        });
}
