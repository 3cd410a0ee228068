import { describe, expect, it } from 'vitest';
import { formatDateTime, formatMoney, parseMoneyInput } from './format';

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
