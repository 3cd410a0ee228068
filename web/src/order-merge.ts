// An order reaches the page three ways (the query, the subscription, a mutation's answer), in any order: the
// page shows the newest. The history only grows, so its length orders them; updatedAt breaks ties.
import type { InvoiceStatus } from './gql/graphql';

interface Versioned {
  updatedAt: string;
  history: readonly unknown[];
}

export function newest<T extends Versioned>(...candidates: readonly (T | null | undefined)[]): T | null {
  let best: T | null = null;
  for (const candidate of candidates) {
    if (!candidate) {
      continue;
    }
    if (
      best === null ||
      candidate.history.length > best.history.length ||
      (candidate.history.length === best.history.length && Date.parse(candidate.updatedAt) > Date.parse(best.updatedAt))
    ) {
      best = candidate;
    }
  }
  return best;
}

const INVOICE_RANK: Record<InvoiceStatus, number> = { PENDING: 0, CONFIRMED: 1, ERROR_STOCK: 1 };

/** The invoice further along: an issued (PENDING) one never replaces a CONFIRMED one that arrived first. */
export function newestInvoice<T extends { status: InvoiceStatus }>(
  ...candidates: readonly (T | null | undefined)[]
): T | null {
  let best: T | null = null;
  for (const candidate of candidates) {
    if (candidate && (best === null || INVOICE_RANK[candidate.status] > INVOICE_RANK[best.status])) {
      best = candidate;
    }
  }
  return best;
}
