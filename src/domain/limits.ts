// The size limits of the public contract, in one place.
export const limits = Object.freeze({
  /** Messages a subscription replays before it asks the client to page instead. */
  maxReplay: 1_000,
  /** A typing indicator not renewed within this expires. */
  typingTtlMs: 5_000,
  maxPageSize: 100,
  defaultPageSize: 50,
  /** Ids in one `nodes` call. */
  maxNodesPerCall: 100,
  maxBodyLength: 4_000,
  minPasswordLength: 8,
  /** argon2 hashes anything, but a megabyte password is a denial-of-service lever. */
  maxPasswordLength: 1_024,
  maxDisplayNameLength: 64,
  maxTitleLength: 128,
  maxClientMessageIdLength: 128,
  /** Phones and user ids together in one createGroupConversation / addMembers call. */
  maxMembersPerCall: 2_000,
  maxGroupMembers: 10_000,
  /** A PUBLIC group (a big room anyone can join). */
  maxPublicMembers: 100_000,
  maxDescriptionLength: 1_000,
  /** Invite codes a group may have that still work. */
  maxActiveInvites: 100,
  maxAttachmentsPerMessage: 10,
});
