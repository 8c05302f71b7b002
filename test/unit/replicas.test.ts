import { describe, expect, it } from 'vitest';
import { parseLsn } from '../../src/db/replicas.js';

describe('parseLsn', () => {
  it('orders WAL positions across the 4 GB boundary of their low half', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0') > parseLsn('0/FFFFFFFF')).toBe(true);
    expect(parseLsn('A/1') - parseLsn('A/0')).toBe(1n);
  });

  it.each(['', '0', '0/', 'x/1', '1/2/3', '123456789/0'])('refuses %j', (text) => {
    expect(() => parseLsn(text)).toThrow(/not an LSN/);
  });
});
