import { badInput } from './errors.js';

const SEPARATORS = /[\s\-.()[\]]/g;
const E164 = /^\+[1-9]\d{7,14}$/;

/**
 * E.164 form of a phone number typed any common way ("+1 (555) 123-4567" → "+15551234567"), or
 * null when it is not one. Syntax only: + and 8–15 digits, the first not 0; no numbering-plan check.
 */
export function normalizePhone(input: string): string | null {
  if (input.length > 64) return null;
  const compact = input.replace(SEPARATORS, '');
  return E164.test(compact) ? compact : null;
}

export function parsePhone(input: string, field = 'phone'): string {
  const phone = normalizePhone(input);
  if (!phone) {
    throw badInput(
      `"${input.slice(0, 32)}" is not a phone number: use + and the country code, then 8–15 digits in all (for example +15551234567).`,
      field,
    );
  }
  return phone;
}
