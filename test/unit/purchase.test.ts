import { describe, expect, it } from 'vitest';
import { formatMoney, purchaseRanges, purchaseTotal } from '../../src/contract/purchase.js';

describe('purchase totals', () => {
  it('multiplies exactly, never through a float', () => {
    // 0.1 × 3 is 0.30000000000000004 as a float.
    expect(purchaseTotal({ seats: 3, pricePerSeat: { amount: '0.1', currency: 'EUR' } })).toEqual({ amount: '0.30', currency: 'EUR' });
    expect(purchaseTotal({ seats: 25, pricePerSeat: { amount: '12.50', currency: 'USD' } })).toEqual({ amount: '312.50', currency: 'USD' });
    expect(purchaseTotal({ seats: 7, pricePerSeat: { amount: '0.0125', currency: 'USD' } })).toEqual({ amount: '0.0875', currency: 'USD' });
    expect(purchaseTotal({ seats: 1, pricePerSeat: { amount: '0', currency: 'JPY' } })).toEqual({ amount: '0.00', currency: 'JPY' });
  });

  it('holds the largest bounded offer without losing a digit', () => {
    const total = purchaseTotal({ seats: purchaseRanges.seats.max, pricePerSeat: { amount: '999999999.9999', currency: 'EUR' } });
    expect(total.amount).toBe('99999999999990.0000');
  });

  it('writes an amount one way', () => {
    expect(formatMoney({ amount: '312.50', currency: 'USD' })).toBe('USD 312.50');
  });

  it('bounds the amount by its pattern', () => {
    for (const ok of ['0', '12', '12.5', '12.5000', '999999999.9999']) expect(purchaseRanges.amountPattern.test(ok)).toBe(true);
    for (const bad of ['', '-1', '01', '1e3', '1.', '.5', '12.50000', '1000000000', ' 1', '1,5']) expect(purchaseRanges.amountPattern.test(bad)).toBe(false);
  });
});
