/**
 * Is the request body declared as JSON (`application/json`, any parameters,
 * or a `+json` type)? Browsers send only `text/plain`, form-urlencoded and
 * multipart bodies cross-site without a CORS preflight, so refusing everything
 * else closes cross-site request forgery on both APIs (rest-compat/http.ts,
 * src/server.ts).
 */
export function isJsonContentType(request: Request): boolean {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[\w.-]+\+json$/.test(type);
}
