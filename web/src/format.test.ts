import { describe, expect, it } from 'vitest';
import { formatCountdown, formatDateTime, formatMoney, parseMoneyInput } from './format';

describe('formatMoney', () => {
  it('writes reais the Brazilian way', () => {
    expect(formatMoney('149800.00')).toBe('R$ 149.800,00');
    expect(formatMoney('0.5')).toBe('R$ 0,50');
    expect(formatMoney(2500)).toBe('R$ 2.500,00');
  });
  it('keeps reais in English', () => {
    expect(formatMoney('149800.00', 'en')).toBe('R$149,800.00');
  });
  it('shows what it cannot read as it came', () => {
    expect(formatMoney('abc')).toBe('abc');
  });
});

describe('formatDateTime', () => {
  it('shows an instant in the given local time zone', () => {
    expect(formatDateTime('2026-03-01T15:04:05+00:00', 'pt-BR', 'America/Sao_Paulo')).toBe('01/03/2026, 12:04:05');
    expect(formatDateTime('2026-03-01T15:04:05Z', 'en', 'America/Sao_Paulo')).toBe('3/1/26, 12:04:05 PM');
  });
  it('shows what it cannot read as it came', () => {
    expect(formatDateTime('yesterday')).toBe('yesterday');
  });
});

describe('parseMoneyInput', () => {
  it('reads pt-BR and plain decimals', () => {
    expect(parseMoneyInput('R$ 149.800,00')).toBe('149800.00');
    expect(parseMoneyInput('149800')).toBe('149800.00');
    expect(parseMoneyInput('189.9')).toBe('189.90');
    expect(parseMoneyInput('1.234,5')).toBe('1234.50');
  });
  it('refuses what is not money', () => {
    expect(parseMoneyInput('')).toBeNull();
    expect(parseMoneyInput('12,345,6')).toBeNull();
    expect(parseMoneyInput('-5')).toBeNull();
  });
});

describe('formatCountdown', () => {
  const now = Date.parse('2026-03-01T15:00:00Z');
  it('counts minutes and seconds down to the instant', () => {
    expect(formatCountdown('2026-03-01T15:30:00Z', now)).toBe('30:00');
    expect(formatCountdown('2026-03-01T15:04:05+00:00', now)).toBe('4:05');
    expect(formatCountdown('2026-03-01T12:00:09-03:00', now)).toBe('0:09');
  });
  it('shows hours when there are some', () => {
    expect(formatCountdown('2026-03-01T16:02:03Z', now)).toBe('1:02:03');
  });
  it('rounds a part of a second up, so the last second still shows', () => {
    expect(formatCountdown('2026-03-01T15:00:00.200Z', now)).toBe('0:01');
    expect(formatCountdown('2026-03-01T15:00:59.001Z', now)).toBe('1:00');
  });
  it('is null once the instant has come, or when it cannot be read', () => {
    expect(formatCountdown('2026-03-01T15:00:00Z', now)).toBeNull();
    expect(formatCountdown('2026-03-01T14:59:00Z', now)).toBeNull();
    expect(formatCountdown('soon', now)).toBeNull();
  });
});
