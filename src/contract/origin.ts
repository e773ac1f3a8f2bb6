/**
 * Whether a websocket upgrade may proceed, from its Origin and Host headers.
 * Browsers send Origin with every websocket; Node clients (agents, the CLI)
 * send none. So the upgrade is taken with no Origin, or with the server's own
 * origin (the same host:port as the Host header): a page of another site
 * cannot open a socket to us with the user's reach.
 */
export function isOwnOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (!host) return false;
  try {
    const from = new URL(origin);
    if (from.protocol !== 'http:' && from.protocol !== 'https:') return false;
    // both through URL, so default ports and letter case compare equal
    return from.host === new URL(`${from.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
