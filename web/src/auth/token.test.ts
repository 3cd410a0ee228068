import { describe, expect, it } from 'vitest';
import { decodeClaims, groupsOf, isExpired } from './token';

function jwt(payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', kid: 'k' })}.${encode(payload)}.signature`;
}

describe('token', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const nowSeconds = now / 1000;

  it('reads the claims, groups included', () => {
    const token = jwt({ sub: 'u-1', exp: nowSeconds + 3600, 'cognito:groups': ['admin'], name: 'Zoë' });
    expect(decodeClaims(token)?.sub).toBe('u-1');
    expect(groupsOf(token)).toEqual(['admin']);
    expect(groupsOf(jwt({ sub: 'u-2' }))).toEqual([]);
  });

  it('is fresh well before exp, expired within the margin and after', () => {
    expect(isExpired(jwt({ exp: nowSeconds + 3600 }), now)).toBe(false);
    expect(isExpired(jwt({ exp: nowSeconds + 10 }), now)).toBe(true);
    expect(isExpired(jwt({ exp: nowSeconds - 1 }), now)).toBe(true);
    expect(isExpired(jwt({ exp: nowSeconds + 10 }), now, 0)).toBe(false);
  });

  it('treats what is not a JWT as expired', () => {
    expect(decodeClaims('garbage')).toBeNull();
    expect(decodeClaims('a.b.c')).toBeNull();
    expect(isExpired('garbage', now)).toBe(true);
    expect(isExpired(jwt({ sub: 'no exp' }), now)).toBe(true);
  });
});
