import { describe, expect, it } from 'vitest';
import type { RefundStatus } from './gql/graphql';
import { cancellationReasonLabel, paymentStatusLabel, REFUND_STATUS, refundTone } from './status';

describe('refund statuses', () => {
  it('say where the money is, in Portuguese and English', () => {
    expect(REFUND_STATUS.PENDING['pt-BR']).toBe('Devolução em processamento');
    expect(REFUND_STATUS.REFUNDED['pt-BR']).toBe('Devolvida');
    expect(REFUND_STATUS.FAILED['pt-BR']).toBe('Não realizada');
    expect(REFUND_STATUS.REFUNDED.en).toBe('Refunded');
  });

  it('look as urgent as they are', () => {
    const tones = (['PENDING', 'REFUNDED', 'FAILED'] as const satisfies readonly RefundStatus[]).map(refundTone);
    expect(tones).toEqual(['progress', 'success', 'danger']);
  });
});

describe('paymentStatusLabel', () => {
  it('names every status the API documents', () => {
    expect(paymentStatusLabel('REFUND_OWED', 'pt-BR')).toBe('Devolução devida');
    expect(paymentStatusLabel('PAID', 'pt-BR')).toBe('Pago');
  });

  it('shows a status it does not know as it came', () => {
    expect(paymentStatusLabel('SOMETHING_NEW', 'pt-BR')).toBe('SOMETHING_NEW');
  });
});

describe('cancellationReasonLabel', () => {
  it('names the reasons a Pix payment cancels an order for', () => {
    expect(cancellationReasonLabel('PAYMENT_FAILED', 'pt-BR')).toBe('Pagamento recusado');
    expect(cancellationReasonLabel('PAYMENT_REFUSED', 'pt-BR')).toBe('Cobrança Pix não gerada');
    expect(cancellationReasonLabel('PAYMENT_REFUSED', 'en')).toBe('Pix charge refused');
  });
});
