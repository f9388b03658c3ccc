/** A session's two tokens, as `login`, `register` and `refresh` answer them. */
export interface Tokens {
  token: string | null;
  refreshToken: string | null;
}

/**
 * Spends the refresh token for a new pair (the `refresh` mutation, no bearer),
 * once for every caller waiting at the same time: a spent refresh token sent
 * again after REFRESH_REUSE_GRACE would end the session. False when the
 * session is over (sign in again).
 */
export function refresher(url: string, tokens: Tokens): () => Promise<boolean> {
  let running: Promise<boolean> | null = null;
  const refresh = async (): Promise<boolean> => {
    if (!tokens.refreshToken) return false;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation ($refreshToken: String!) { refresh(refreshToken: $refreshToken) { token refreshToken } }',
        variables: { refreshToken: tokens.refreshToken },
      }),
    });
    const body = (await response.json()) as { data?: { refresh: { token: string; refreshToken: string } } | null };
    if (!body.data?.refresh) return false;
    Object.assign(tokens, body.data.refresh);
    return true;
  };
  return () => (running ??= refresh().finally(() => (running = null)));
}
