// Who may do what in a group. OWNER: one per group (its creator, until they hand it on); ADMIN:
// adds and removes members, renames the group, makes invites; MEMBER: talks. The rules are
// decided here from roles read under the conversation's lock, so two admins acting at once are
// judged one after the other, each on what the other left.
import type { MemberRole } from '../db/conversations.js';
import { badInput, DomainError } from './errors.js';

export const forbidden = (message: string): DomainError => new DomainError('FORBIDDEN', message);

export const isAdmin = (role: MemberRole): boolean => role === 'OWNER' || role === 'ADMIN';

/** Admin actions: adding members, changing details, invites. */
export function requireAdmin(role: MemberRole, action: string): void {
  if (!isAdmin(role)) throw forbidden(`Only the group's owner and admins can ${action}.`);
}

/** OWNER removes anyone; ADMIN removes admins and members, never the owner; MEMBER nobody. */
export function checkRemoval(actor: MemberRole, target: MemberRole, self: boolean): void {
  if (self) throw badInput('To remove yourself, leave the conversation.', 'userId');
  requireAdmin(actor, 'remove members');
  if (target === 'OWNER') throw forbidden("The group's owner cannot be removed.");
}

/**
 * Only the owner gives roles: ADMIN or MEMBER to someone else, or OWNER to hand the group on.
 * Returns false when the member has that role already (nothing to do).
 */
export function checkRoleChange(
  actor: MemberRole,
  target: MemberRole,
  role: MemberRole,
  self: boolean,
): boolean {
  if (actor !== 'OWNER') throw forbidden("Only the group's owner can change roles.");
  if (self) {
    throw badInput(
      'The owner keeps their role until they hand the group on (role OWNER for someone else).',
      'userId',
    );
  }
  return target !== role;
}
