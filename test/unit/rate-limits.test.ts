import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../src/domain/rate-limits.js';

describe('isLoopback (who counts as the machine itself)', () => {
  it('is 127.0.0.0/8 and ::1, also IPv4-mapped', () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(ip), ip).toBe(true);
    }
  });
  it('is no other address, nor one that merely looks alike', () => {
    for (const ip of ['10.0.0.1', '203.0.113.9', '::ffff:10.0.0.1', '1127.0.0.1', 'unknown', '']) {
      expect(isLoopback(ip), ip).toBe(false);
    }
  });
});
