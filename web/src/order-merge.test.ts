import { describe, expect, it } from 'vitest';
import type { InvoiceStatus } from './gql/graphql';
import { newest, newestInvoice } from './order-merge';

const order = (status: string, steps: number, updatedAt = '2026-01-01T10:00:00Z') => ({
  status,
  updatedAt,
  history: Array.from({ length: steps }, (_, i) => i),
});

describe('newest', () => {
  it('prefers the longer history, whichever came first', () => {
    const placed = order('PLACED', 1);
    const awaiting = order('AWAITING_PAYMENT', 3);
    expect(newest(awaiting, placed)).toBe(awaiting);
    expect(newest(placed, awaiting)).toBe(awaiting);
  });
  it('breaks ties by updatedAt and skips what is missing', () => {
    const a = order('A', 2, '2026-01-01T10:00:00Z');
    const b = order('B', 2, '2026-01-01T10:00:01Z');
    expect(newest(null, a, undefined, b)).toBe(b);
    expect(newest()).toBeNull();
  });
});

describe('newestInvoice', () => {
  it('never goes back from CONFIRMED to PENDING', () => {
    const confirmed: { status: InvoiceStatus } = { status: 'CONFIRMED' };
    const pending: { status: InvoiceStatus } = { status: 'PENDING' };
    expect(newestInvoice(confirmed, pending)).toBe(confirmed);
    expect(newestInvoice(pending, confirmed)).toBe(confirmed);
    expect(newestInvoice(null, pending)).toBe(pending);
  });
});
