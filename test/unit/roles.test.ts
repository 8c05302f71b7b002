// Who may do what in a group (src/domain/roles.ts): decided from roles alone.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { checkRemoval, checkRoleChange, isAdmin, requireAdmin } from '../../src/domain/roles.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof DomainError ? err.code : 'THREW';
  }
};

describe('group roles', () => {
  it('owners and admins administer; members do not', () => {
    expect(isAdmin('OWNER')).toBe(true);
    expect(isAdmin('ADMIN')).toBe(true);
    expect(isAdmin('MEMBER')).toBe(false);
    expect(codeOf(() => requireAdmin('MEMBER', 'add members'))).toBe('FORBIDDEN');
    expect(codeOf(() => requireAdmin('ADMIN', 'add members'))).toBeUndefined();
  });

  it('removal: the owner removes anyone else, an admin removes admins and members, never the owner', () => {
    const cases: [string, string, string | undefined][] = [
      ['OWNER', 'ADMIN', undefined],
      ['OWNER', 'MEMBER', undefined],
      ['ADMIN', 'ADMIN', undefined],
      ['ADMIN', 'MEMBER', undefined],
      ['ADMIN', 'OWNER', 'FORBIDDEN'],
      ['MEMBER', 'MEMBER', 'FORBIDDEN'],
      ['MEMBER', 'OWNER', 'FORBIDDEN'],
    ];
    for (const [actor, target, code] of cases) {
      expect(
        codeOf(() => checkRemoval(actor as 'OWNER', target as 'OWNER', false)),
        `${actor} removing ${target}`,
      ).toBe(code);
    }
    // Removing yourself is leaving.
    expect(codeOf(() => checkRemoval('OWNER', 'OWNER', true))).toBe('BAD_USER_INPUT');
  });

  it('roles: only the owner gives them, never to themselves; giving a role someone has is nothing', () => {
    expect(codeOf(() => checkRoleChange('ADMIN', 'MEMBER', 'ADMIN', false))).toBe('FORBIDDEN');
    expect(codeOf(() => checkRoleChange('MEMBER', 'MEMBER', 'ADMIN', false))).toBe('FORBIDDEN');
    expect(codeOf(() => checkRoleChange('OWNER', 'OWNER', 'MEMBER', true))).toBe('BAD_USER_INPUT');
    expect(checkRoleChange('OWNER', 'MEMBER', 'ADMIN', false)).toBe(true);
    expect(checkRoleChange('OWNER', 'ADMIN', 'OWNER', false)).toBe(true);
    expect(checkRoleChange('OWNER', 'ADMIN', 'ADMIN', false)).toBe(false);
  });
});
