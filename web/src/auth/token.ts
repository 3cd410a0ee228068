// Reading a Cognito JWT's claims in the browser: only to know when to refresh and what to show. The API verifies.

export interface TokenClaims {
  sub?: string;
  exp?: number;
  email?: string;
  'cognito:groups'?: string[];
  'cognito:username'?: string;
}

function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (char: string) => char.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The payload of a JWT, or null when it is not one. */
export function decodeClaims(token: string): TokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) {
    return null;
  }
  try {
    const payload = JSON.parse(base64UrlDecode(parts[1])) as TokenClaims | null;
    return typeof payload === 'object' && payload !== null ? payload : null;
  } catch {
    return null;
  }
}

/** Refresh this many seconds before a token expires, so that no request goes out with one about to lapse. */
export const EXPIRY_MARGIN_SECONDS = 30;

/** True when the token has expired (or will within the margin), or cannot be read at all. */
export function isExpired(token: string, nowMs: number = Date.now(), marginSeconds = EXPIRY_MARGIN_SECONDS): boolean {
  const exp = decodeClaims(token)?.exp;
  if (typeof exp !== 'number') {
    return true;
  }
  return exp * 1000 <= nowMs + marginSeconds * 1000;
}

export function groupsOf(token: string): string[] {
  const groups = decodeClaims(token)?.['cognito:groups'];
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
}
