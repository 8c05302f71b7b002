import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type {
  PublicUser,
  MessageRow,
  AttachmentRow,
  MemberRow,
  InviteRow,
  SystemEventView,
} from '../../db/schema.js';
import type { ConversationView } from '../../db/conversations.js';
import type { ReactionGroupView } from '../../domain/reactions.js';
import type {
  ConversationUpdatePayload,
  TypingPayload,
  ReceiptPayload,
  PresencePayload,
} from '../../realtime/events.js';
import type { GraphQLContext } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string };
  String: { input: string; output: string };
  Boolean: { input: boolean; output: boolean };
  Int: { input: number; output: number };
  Float: { input: number; output: number };
  /** An ISO 8601 date-time string in UTC, for example 2026-11-21T06:00:00.000Z. */
  DateTime: { input: string; output: Date | string };
};

/** A file sent with a message (uploaded with `POST /attachments`). */
export type Attachment = {
  __typename?: 'Attachment';
  /** The uploader's file name. */
  filename: Scalars['String']['output'];
  height?: Maybe<Scalars['Int']['output']>;
  id: Scalars['ID']['output'];
  /** Judged from the file's content: image/jpeg, image/png, image/webp, image/gif, application/pdf or text/plain. */
  mimeType: Scalars['String']['output'];
  /** Bytes of the file as served (images are re-encoded without metadata). */
  size: Scalars['Int']['output'];
  /** A WebP of at most 320 px and 100 KB, for images (same kind of signed path); null otherwise. */
  thumbnailUrl?: Maybe<Scalars['String']['output']>;
  /**
   * Download path, relative to the server (`/attachments/<id>?exp=…&sig=…`): signed, so it needs no
   * Authorization header, and valid for about 15 minutes (ATTACHMENT_URL_TTL_SECONDS).
   */
  url: Scalars['String']['output'];
  /** Pixels, for images; null otherwise. */
  width?: Maybe<Scalars['Int']['output']>;
};

export type AuthPayload = {
  __typename?: 'AuthPayload';
  /** A signed token: send it as `Authorization: Bearer <token>`. */
  token: Scalars['String']['output'];
  user: User;
};

export type Conversation = Node & {
  __typename?: 'Conversation';
  /** A group's picture (an image attachment). */
  avatar?: Maybe<Attachment>;
  /** A group's description. */
  description?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** Whether you muted this conversation (no pushes from it), now. */
  isMuted: Scalars['Boolean']['output'];
  kind: ConversationKind;
  lastMessage?: Maybe<Message>;
  memberCount: Scalars['Int']['output'];
  members: Array<User>;
  /** Members with their roles and read positions, oldest first (empty when you are not a member). */
  memberships: Array<Membership>;
  /** Same as `Query.messages` for this conversation. */
  messages: MessageConnection;
  /** Until when it is muted; null when it is not muted or muted until you unmute it. */
  mutedUntil?: Maybe<Scalars['DateTime']['output']>;
  /** Your role here; null when you are not a member (a public group you look at). */
  myRole?: Maybe<MemberRole>;
  /** Each member's read position (the read part of `memberships`). */
  readReceipts: Array<ReadReceipt>;
  /** The group's title; null for a direct conversation. */
  title?: Maybe<Scalars['String']['output']>;
  /** Messages of others after the caller's last read message. */
  unreadCount: Scalars['Int']['output'];
  /** Of those, the ones that mention the caller (and are not deleted). */
  unreadMentionCount: Scalars['Int']['output'];
  /** When the last message was sent (or the conversation created). */
  updatedAt: Scalars['DateTime']['output'];
  visibility: ConversationVisibility;
};

export type ConversationMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  until?: InputMaybe<Scalars['DateTime']['input']>;
};

export type ConversationConnection = {
  __typename?: 'ConversationConnection';
  edges: Array<ConversationEdge>;
  pageInfo: PageInfo;
};

export type ConversationEdge = {
  __typename?: 'ConversationEdge';
  cursor: Scalars['String']['output'];
  node: Conversation;
};

export type ConversationKind = 'DIRECT' | 'GROUP';

export type ConversationUpdate = {
  __typename?: 'ConversationUpdate';
  conversation: Conversation;
  reason: ConversationUpdateReason;
};

export type ConversationUpdateReason =
  'DETAILS' | 'JOINED' | 'MEMBERS' | 'MUTE' | 'READ' | 'REMOVED' | 'ROLES';

export type ConversationVisibility = 'PRIVATE' | 'PUBLIC';

export type CreateGroupConversationInput = {
  /** 1–1,000 characters. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** Ids of other members (people found by `userByEmail`, say), beside or instead of phones. */
  memberIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** Phones of the other members; the caller is always a member (its OWNER). */
  memberPhones?: InputMaybe<Array<Scalars['String']['input']>>;
  title: Scalars['String']['input'];
  /** PRIVATE (the default): by invitation only; PUBLIC: listed and joinable by anyone signed in. */
  visibility?: InputMaybe<ConversationVisibility>;
};

export type EditMessageInput = {
  body: Scalars['String']['input'];
  messageId: Scalars['ID']['input'];
};

/** An invite code of a group. */
export type Invite = {
  __typename?: 'Invite';
  code: Scalars['String']['output'];
  conversationId: Scalars['ID']['output'];
  /** Null: it does not expire. */
  expiresAt?: Maybe<Scalars['DateTime']['output']>;
  /** Joins it still allows; null: any number. */
  usesLeft?: Maybe<Scalars['Int']['output']>;
};

/** Exactly one of `phone` and `email`. */
export type LoginInput = {
  email?: InputMaybe<Scalars['String']['input']>;
  password: Scalars['String']['input'];
  phone?: InputMaybe<Scalars['String']['input']>;
};

export type MemberRole = 'ADMIN' | 'MEMBER' | 'OWNER';

/** A member of a conversation: their role, when they joined and how far they have read. */
export type Membership = {
  __typename?: 'Membership';
  joinedAt: Scalars['DateTime']['output'];
  /** Everything up to and including this seq is read by this member. */
  lastReadSeq: Scalars['Int']['output'];
  role: MemberRole;
  user: User;
};

export type Message = Node & {
  __typename?: 'Message';
  /** Files sent with the message, in order; empty once the message is deleted. */
  attachments: Array<Attachment>;
  /** Null once deleted. */
  body?: Maybe<Scalars['String']['output']>;
  clientMessageId?: Maybe<Scalars['String']['output']>;
  conversationId: Scalars['ID']['output'];
  createdAt: Scalars['DateTime']['output'];
  /**
   * The cursor of this message, as its edge in `messages` has it: a client that got the message live
   * resumes `messageAdded(conversationId, after: cursor)` or pages `messages(after: cursor)` from it.
   */
  cursor: Scalars['String']['output'];
  deletedAt?: Maybe<Scalars['DateTime']['output']>;
  editedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Earlier bodies, oldest first, each with when it was replaced; empty when never edited or deleted. */
  edits: Array<MessageEdit>;
  id: Scalars['ID']['output'];
  kind: MessageKind;
  /** Members this message mentions, in the order the sender gave; empty once deleted. */
  mentions: Array<User>;
  /** Reactions, one group per emoji, in the order each emoji was first used; empty once deleted. */
  reactions: Array<ReactionGroup>;
  /** The messages that answer this one, oldest first (`first`: default 50, at most 100). */
  replies: MessageConnection;
  /** How many messages answer this one (deleted answers included: they stay in the thread as tombstones). */
  replyCount: Scalars['Int']['output'];
  /** The message this one answers (a tombstone, body null, if it was deleted since); null if none. */
  replyTo?: Maybe<Message>;
  sender: User;
  /** Whether you blocked the sender (shown in groups you share; your client may hide it). */
  senderBlocked: Scalars['Boolean']['output'];
  /** 1 for a conversation's first message; gap-free and strictly increasing within it. */
  seq: Scalars['Int']['output'];
  status: MessageStatus;
  /**
   * In a subscription: where the stream stands after the event that carried this message (an add,
   * an edit, a delete). Passing it as `after` to the same subscription resumes right after that
   * event. Opaque; null outside subscriptions.
   */
  streamCursor?: Maybe<Scalars['String']['output']>;
  /** For SYSTEM messages: what changed. */
  systemEvent?: Maybe<SystemEvent>;
};

export type MessageRepliesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type MessageConnection = {
  __typename?: 'MessageConnection';
  edges: Array<MessageEdge>;
  pageInfo: PageInfo;
};

export type MessageEdge = {
  __typename?: 'MessageEdge';
  cursor: Scalars['String']['output'];
  node: Message;
};

/** An earlier body of an edited message. */
export type MessageEdit = {
  __typename?: 'MessageEdit';
  body: Scalars['String']['output'];
  /** When this body was replaced by an edit. */
  editedAt: Scalars['DateTime']['output'];
};

export type MessageKind =
  /** Records a change of members, roles or details; `systemEvent` says which. Its body is null. */
  | 'SYSTEM'
  /** Sent by a person. */
  | 'USER';

export type MessageSearchConnection = {
  __typename?: 'MessageSearchConnection';
  edges: Array<MessageSearchEdge>;
  pageInfo: PageInfo;
};

export type MessageSearchEdge = {
  __typename?: 'MessageSearchEdge';
  cursor: Scalars['String']['output'];
  node: Message;
  /** The matching part of the body with the matches marked «like this». */
  snippet: Scalars['String']['output'];
};

export type MessageStatus =
  /** Delivered to every other member (pushed to one of their connections or fetched by them). */
  | 'DELIVERED'
  /** Read by every other member. */
  | 'READ'
  /** Stored, not yet delivered to every other member. */
  | 'SENT';

export type Mutation = {
  __typename?: 'Mutation';
  /** Add people, by phone or by id, to a group (OWNER or ADMIN): one MEMBERS_ADDED system message. */
  addMembers: Conversation;
  /**
   * React to a message with an emoji (one emoji, as one grapheme cluster, or a short `:name:` of
   * letters, digits, _ + -, up to 32 characters). Reacting twice with the same emoji is one
   * reaction. Subscribers see the change as a `messageUpdated` event.
   */
  addReaction: Message;
  /**
   * Block a user: you get no pushes, presence or typing from them, their messages in groups you
   * share are flagged (`Message.senderBlocked`), and they can no longer open or write a direct
   * conversation with you (they are not told why). True also when already blocked.
   */
  blockUser: Scalars['Boolean']['output'];
  createGroupConversation: Conversation;
  /**
   * An invite code for a group (OWNER or ADMIN), valid until `expiresAt` (null: until revoked) for
   * `maxUses` joins (null: any number). Rate-limited per user.
   */
  createInvite: Invite;
  /** Delete one of your messages; it stays in history as a tombstone (deletedAt set, body null). */
  deleteMessage: Message;
  editMessage: Message;
  /**
   * Join a group with an invite code (`inviteCode`), or a PUBLIC group by id (`conversationId`).
   * Joining one you are in already returns it and uses nothing. A code that is unknown, revoked,
   * expired or used up is NOT_FOUND. Rate-limited per user.
   */
  joinConversation: Conversation;
  /**
   * Leave a group: you get no event of it after this commits, and it leaves your list (its history
   * stays with the others). The last owner leaving hands the group to the oldest admin, else the
   * member who joined first.
   */
  leaveConversation: Scalars['Boolean']['output'];
  login: AuthPayload;
  /** Mark everything up to and including this message as read. Never moves backwards. */
  markRead: Conversation;
  /** Mark this message and everything after it unread (your read position moves back to before it). */
  markUnread: Conversation;
  /**
   * No pushes from this conversation until `until` (null: until you unmute it); its messages still
   * count as unread.
   */
  muteConversation: Conversation;
  register: AuthPayload;
  /**
   * Receive Web Push notifications on this device for messages that did not reach any of your
   * connections within a few seconds (and that you have not read meanwhile). Pass the browser's
   * PushSubscription (`endpoint` and its `p256dh` and `auth` keys). Registering an endpoint again
   * updates it; an endpoint belongs to one user at a time.
   */
  registerPushSubscription: Scalars['Boolean']['output'];
  /**
   * Remove a member from a group (OWNER: anyone; ADMIN: admins and members, not the owner). They get
   * no event of it after this commits, on any instance, and it leaves their list; their history
   * stays. A MEMBER_REMOVED system message records it.
   */
  removeMember: Conversation;
  /** Take your reaction back (nothing happens when you had not reacted with it). */
  removeReaction: Message;
  /** Stop an invite code working (OWNER or ADMIN of its group). False when it was revoked already. */
  revokeInvite: Scalars['Boolean']['output'];
  /**
   * Send a message to a conversation (`conversationId`) or to a person (`toPhone`, which opens the
   * 1:1 conversation if needed). Exactly one of the two. Repeating a `clientMessageId` returns the
   * original message instead of sending a second one.
   */
  sendMessage: Message;
  /**
   * The owner makes a member ADMIN or MEMBER, or hands the group on with OWNER (becoming an ADMIN).
   * A ROLE_CHANGED (or OWNERSHIP_TRANSFERRED) system message records it.
   */
  setMemberRole: Conversation;
  /**
   * Tell the other members you are typing. Ephemeral: unless renewed (every few seconds) it expires
   * after about 5 seconds, which subscribers see as `isTyping: false`.
   */
  setTyping: Scalars['Boolean']['output'];
  /**
   * Get or create the 1:1 conversation with a user, named by exactly one of their phone number,
   * their email address or their id (as `userByEmail` or a message's sender gives it).
   */
  startDirectConversation: Conversation;
  /** Unblock a user. False when they were not blocked. */
  unblockUser: Scalars['Boolean']['output'];
  unmuteConversation: Conversation;
  /** Stop pushes to this endpoint. False when it was not registered for you. */
  unregisterPushSubscription: Scalars['Boolean']['output'];
  /**
   * Change a group's title, description, picture or visibility (OWNER or ADMIN). Fields left out
   * stay; `description: null` and `avatarAttachmentId: null` clear them. A DETAILS_CHANGED system
   * message records what changed.
   */
  updateConversation: Conversation;
  updateProfile: User;
};

export type MutationAddMembersArgs = {
  conversationId: Scalars['ID']['input'];
  phones?: InputMaybe<Array<Scalars['String']['input']>>;
  userIds?: InputMaybe<Array<Scalars['ID']['input']>>;
};

export type MutationAddReactionArgs = {
  emoji: Scalars['String']['input'];
  messageId: Scalars['ID']['input'];
};

export type MutationBlockUserArgs = {
  userId: Scalars['ID']['input'];
};

export type MutationCreateGroupConversationArgs = {
  input: CreateGroupConversationInput;
};

export type MutationCreateInviteArgs = {
  conversationId: Scalars['ID']['input'];
  expiresAt?: InputMaybe<Scalars['DateTime']['input']>;
  maxUses?: InputMaybe<Scalars['Int']['input']>;
};

export type MutationDeleteMessageArgs = {
  messageId: Scalars['ID']['input'];
};

export type MutationEditMessageArgs = {
  input: EditMessageInput;
};

export type MutationJoinConversationArgs = {
  conversationId?: InputMaybe<Scalars['ID']['input']>;
  inviteCode?: InputMaybe<Scalars['String']['input']>;
};

export type MutationLeaveConversationArgs = {
  conversationId: Scalars['ID']['input'];
};

export type MutationLoginArgs = {
  input: LoginInput;
};

export type MutationMarkReadArgs = {
  messageId: Scalars['ID']['input'];
};

export type MutationMarkUnreadArgs = {
  messageId: Scalars['ID']['input'];
};

export type MutationMuteConversationArgs = {
  conversationId: Scalars['ID']['input'];
  until?: InputMaybe<Scalars['DateTime']['input']>;
};

export type MutationRegisterArgs = {
  input: RegisterInput;
};

export type MutationRegisterPushSubscriptionArgs = {
  input: PushSubscriptionInput;
};

export type MutationRemoveMemberArgs = {
  conversationId: Scalars['ID']['input'];
  userId: Scalars['ID']['input'];
};

export type MutationRemoveReactionArgs = {
  emoji: Scalars['String']['input'];
  messageId: Scalars['ID']['input'];
};

export type MutationRevokeInviteArgs = {
  code: Scalars['String']['input'];
};

export type MutationSendMessageArgs = {
  input: SendMessageInput;
};

export type MutationSetMemberRoleArgs = {
  conversationId: Scalars['ID']['input'];
  role: MemberRole;
  userId: Scalars['ID']['input'];
};

export type MutationSetTypingArgs = {
  conversationId: Scalars['ID']['input'];
  isTyping: Scalars['Boolean']['input'];
};

export type MutationStartDirectConversationArgs = {
  email?: InputMaybe<Scalars['String']['input']>;
  phone?: InputMaybe<Scalars['String']['input']>;
  userId?: InputMaybe<Scalars['ID']['input']>;
};

export type MutationUnblockUserArgs = {
  userId: Scalars['ID']['input'];
};

export type MutationUnmuteConversationArgs = {
  conversationId: Scalars['ID']['input'];
};

export type MutationUnregisterPushSubscriptionArgs = {
  endpoint: Scalars['String']['input'];
};

export type MutationUpdateConversationArgs = {
  input: UpdateConversationInput;
};

export type MutationUpdateProfileArgs = {
  input: UpdateProfileInput;
};

/**
 * An object that can be fetched again by its id alone (`Query.node`), as Relay's refetchable
 * fragments and normalized caches expect.
 */
export type Node = {
  /** Unique across users, conversations and messages; the same as the object's own `id`. */
  id: Scalars['ID']['output'];
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
  hasPreviousPage: Scalars['Boolean']['output'];
  startCursor?: Maybe<Scalars['String']['output']>;
};

export type Presence = {
  __typename?: 'Presence';
  /** When the user went offline; null while ONLINE or if never seen. */
  lastSeenAt?: Maybe<Scalars['DateTime']['output']>;
  /** ONLINE while at least one of the user's connections is open (announced OFFLINE after a short grace period). */
  status: PresenceStatus;
  user: User;
};

export type PresenceStatus = 'OFFLINE' | 'ONLINE';

/** A browser's PushSubscription, as `subscription.toJSON()` gives it (keys base64url). */
export type PushSubscriptionInput = {
  auth: Scalars['String']['input'];
  endpoint: Scalars['String']['input'];
  p256dh: Scalars['String']['input'];
};

export type Query = {
  __typename?: 'Query';
  /** The users you blocked, most recently blocked first. */
  blockedUsers: Array<User>;
  /** A conversation the caller is a member of; null when it does not exist or the caller is not in it. */
  conversation?: Maybe<Conversation>;
  /** The caller's conversations, most recent activity first. */
  conversations: ConversationConnection;
  /** The signed-in user. */
  me: User;
  /**
   * Messages of one conversation. Within a page messages run oldest → newest.
   * `last: N` is the newest N; `before` pages back into history; `after` syncs forward.
   * Without `first` or `last` a page holds the newest 50 (or the 50 after `after`).
   */
  messages: MessageConnection;
  /**
   * Any object with an id (Relay object identification): a user, a conversation or a message, by
   * the same id as its own `id` field. Null when there is no such object or the caller may not see
   * it: a conversation or message of a conversation the caller is not a member of (now) reads
   * exactly like a missing id, and so does a string that is no id at all.
   */
  node?: Maybe<Node>;
  /**
   * Several objects by id, like `node`, in the order asked: null in the place of each one that is
   * missing or not visible to the caller. At most 100 ids per call (more is BAD_USER_INPUT).
   */
  nodes: Array<Maybe<Node>>;
  /**
   * PUBLIC groups anyone signed in can join (`joinConversation(conversationId)`), largest first.
   * `search` matches words of the title (case-insensitive, anywhere in it). Rate-limited per user.
   */
  publicConversations: ConversationConnection;
  /**
   * Messages of your conversations that match `query` (words, or any part of a word: substrings and
   * text without spaces such as Chinese or Japanese are found too), best match first, each with a
   * snippet that marks the matches with «». Only conversations you are in now (the messages their
   * history shows you), never a deleted body. `conversationId` narrows it to one conversation. The
   * query is 1–200 characters; across all conversations at least 3. `first`: default 20, at most 50.
   */
  searchMessages: MessageSearchConnection;
  /** A registered user found by email address (any letter case), or null. Rate-limited like `userByPhone`. */
  userByEmail?: Maybe<User>;
  /** A registered user found by phone number (any common formatting), or null. */
  userByPhone?: Maybe<User>;
  /**
   * The server's Web Push application key (VAPID, base64url): pass it as `applicationServerKey` to
   * the browser's `pushManager.subscribe`. NOT_CONFIGURED when the server has no VAPID keys.
   */
  vapidPublicKey: Scalars['String']['output'];
};

export type QueryConversationArgs = {
  id: Scalars['ID']['input'];
};

export type QueryConversationsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
};

export type QueryMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  conversationId: Scalars['ID']['input'];
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  until?: InputMaybe<Scalars['DateTime']['input']>;
};

export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};

export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};

export type QueryPublicConversationsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  search?: InputMaybe<Scalars['String']['input']>;
};

export type QuerySearchMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  conversationId?: InputMaybe<Scalars['ID']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  query: Scalars['String']['input'];
};

export type QueryUserByEmailArgs = {
  email: Scalars['String']['input'];
};

export type QueryUserByPhoneArgs = {
  phone: Scalars['String']['input'];
};

export type ReactionGroup = {
  __typename?: 'ReactionGroup';
  count: Scalars['Int']['output'];
  emoji: Scalars['String']['output'];
  /** Whether you reacted with this emoji. */
  reactedByMe: Scalars['Boolean']['output'];
  /** The first few who reacted with it, earliest first (`first`: default 3, at most 20). */
  users: Array<User>;
};

export type ReactionGroupUsersArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type ReadReceipt = {
  __typename?: 'ReadReceipt';
  conversationId: Scalars['ID']['output'];
  /** Everything up to and including this seq is read. */
  lastReadSeq: Scalars['Int']['output'];
  readAt: Scalars['DateTime']['output'];
  user: User;
};

/** Exactly one of `phone` and `email`. */
export type RegisterInput = {
  /** 1–64 characters. */
  displayName: Scalars['String']['input'];
  /** An email address (at most 254 characters); unique without regard to letter case. */
  email?: InputMaybe<Scalars['String']['input']>;
  /** At least 8 characters. */
  password: Scalars['String']['input'];
  /** E.164 after removing spaces, dashes, dots and brackets: + and 8–15 digits. */
  phone?: InputMaybe<Scalars['String']['input']>;
};

export type SendMessageInput = {
  /**
   * Up to 10 ids of your own uploads (`POST /attachments`) not attached to a message yet, in the
   * order to show them. Any other id is NOT_FOUND, and nothing is sent.
   */
  attachmentIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /** 1–4,000 characters; may be empty or left out when the message has attachments. */
  body?: InputMaybe<Scalars['String']['input']>;
  /** A client-generated id (a UUID, say) that makes retries safe; at most 128 characters. */
  clientMessageId?: InputMaybe<Scalars['String']['input']>;
  conversationId?: InputMaybe<Scalars['ID']['input']>;
  /**
   * Members of the conversation this message mentions (at most 50, in the order to show them). Each
   * gets it counted in `unreadMentionCount` and is pushed even where they muted the conversation.
   */
  mentionUserIds?: InputMaybe<Array<Scalars['ID']['input']>>;
  /**
   * The message this one answers: a message of the same conversation that you can see and that is
   * not deleted. It becomes the new message's `replyTo`, and the answered message's thread
   * (`replies`) gains it.
   */
  replyToId?: InputMaybe<Scalars['ID']['input']>;
  toPhone?: InputMaybe<Scalars['String']['input']>;
};

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Changes to your conversations, on every device of yours: your read position or mute state
   * (READ, MUTE: made on any of your devices), members, roles and details (MEMBERS, ROLES,
   * DETAILS), a conversation you joined or were added to (JOINED), and one you left or were
   * removed from (REMOVED: `conversation` then has only its id, kind and details).
   */
  conversationUpdated: ConversationUpdate;
  /**
   * New messages. With `conversationId`: that conversation; without: every conversation of the
   * caller, including ones joined later. With `after`, it first replays every later message, then
   * goes live, with no gap and no duplicate: pass the `streamCursor` of the last message received
   * (for one conversation its `cursor`, as a `messages` edge has it, works too). More than 1,000 to
   * replay ends the subscription with RESYNC_REQUIRED: page with `messages` instead.
   */
  messageAdded: Message;
  /**
   * Edits and deletes, in one conversation or (without `conversationId`) in all of the caller's.
   * With `after` (the `streamCursor` of the last update received) it first replays every later
   * change, each message in its newest state, then goes live.
   */
  messageUpdated: Message;
  /**
   * ONLINE/OFFLINE changes of the caller's contacts (users who share a conversation with the caller),
   * optionally narrowed to `userIds`.
   */
  presenceChanged: Presence;
  /** Members' read positions moving forward. */
  readReceiptUpdated: ReadReceipt;
  /** Other members starting and stopping to type. */
  typingChanged: TypingEvent;
};

export type SubscriptionMessageAddedArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  conversationId?: InputMaybe<Scalars['ID']['input']>;
};

export type SubscriptionMessageUpdatedArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  conversationId?: InputMaybe<Scalars['ID']['input']>;
};

export type SubscriptionPresenceChangedArgs = {
  userIds?: InputMaybe<Array<Scalars['ID']['input']>>;
};

export type SubscriptionReadReceiptUpdatedArgs = {
  conversationId: Scalars['ID']['input'];
};

export type SubscriptionTypingChangedArgs = {
  conversationId: Scalars['ID']['input'];
};

/** What a SYSTEM message records. */
export type SystemEvent = {
  __typename?: 'SystemEvent';
  /** Who made the change (the message's sender). */
  actor: User;
  /** DETAILS_CHANGED: which of title, description, avatar, visibility changed. */
  fields?: Maybe<Array<Scalars['String']['output']>>;
  /** ROLE_CHANGED: the role given. */
  role?: Maybe<MemberRole>;
  /** Whom it is about (the first when several were added); null when it is about the actor only. */
  subject?: Maybe<User>;
  /** Everyone it is about (all members added at once). */
  subjects: Array<User>;
  /** DETAILS_CHANGED: the new title, when it changed. */
  title?: Maybe<Scalars['String']['output']>;
  type: SystemEventType;
};

export type SystemEventType =
  | 'DETAILS_CHANGED'
  | 'MEMBERS_ADDED'
  | 'MEMBER_JOINED'
  | 'MEMBER_LEFT'
  | 'MEMBER_REMOVED'
  | 'OWNERSHIP_TRANSFERRED'
  | 'ROLE_CHANGED';

export type TypingEvent = {
  __typename?: 'TypingEvent';
  conversationId: Scalars['ID']['output'];
  isTyping: Scalars['Boolean']['output'];
  user: User;
};

export type UpdateConversationInput = {
  /** An image you uploaded (`POST /attachments`), not attached to a message; null clears it. */
  avatarAttachmentId?: InputMaybe<Scalars['ID']['input']>;
  conversationId: Scalars['ID']['input'];
  /** Up to 1,000 characters; null clears it. */
  description?: InputMaybe<Scalars['String']['input']>;
  /** 1–128 characters. */
  title?: InputMaybe<Scalars['String']['input']>;
  visibility?: InputMaybe<ConversationVisibility>;
};

/** Fields left out stay as they are. */
export type UpdateProfileInput = {
  displayName?: InputMaybe<Scalars['String']['input']>;
  /** Adds an email address to an account that has none (an address cannot be changed once set). */
  email?: InputMaybe<Scalars['String']['input']>;
  /** Adds a phone number to an account that has none (a number cannot be changed once set). */
  phone?: InputMaybe<Scalars['String']['input']>;
};

export type User = Node & {
  __typename?: 'User';
  displayName: Scalars['String']['output'];
  /** Your own email address; null on anyone else, and when you have none. */
  email?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  /** E.164, for example +15551234567; null for a user who signed up with an email only. */
  phone?: Maybe<Scalars['String']['output']>;
  /** Online status and last seen time; null unless you share a conversation with this user (or it is you). */
  presence?: Maybe<Presence>;
  /** Your unread messages over all your conversations (muted ones too), for a badge; null on anyone else. */
  totalUnreadCount?: Maybe<Scalars['Int']['output']>;
};

export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<
  TResult,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> =
  | ResolverFn<TResult, TParent, TContext, TArgs>
  | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<
  TResult,
  TKey extends string,
  TParent,
  TContext,
  TArgs,
> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<
  TResult,
  TKey extends string,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<
  TTypes,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo,
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<
  T = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<
  TResult = Record<PropertyKey, never>,
  TParent = Record<PropertyKey, never>,
  TContext = Record<PropertyKey, never>,
  TArgs = Record<PropertyKey, never>,
> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo,
) => TResult | Promise<TResult>;

/** Mapping of interface types */
export type ResolversInterfaceTypes<_RefType extends Record<string, unknown>> = {
  Node: ConversationView | MessageRow | PublicUser;
};

/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  Attachment: ResolverTypeWrapper<AttachmentRow>;
  AuthPayload: ResolverTypeWrapper<Omit<AuthPayload, 'user'> & { user: ResolversTypes['User'] }>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  Conversation: ResolverTypeWrapper<ConversationView>;
  ConversationConnection: ResolverTypeWrapper<
    Omit<ConversationConnection, 'edges'> & { edges: Array<ResolversTypes['ConversationEdge']> }
  >;
  ConversationEdge: ResolverTypeWrapper<
    Omit<ConversationEdge, 'node'> & { node: ResolversTypes['Conversation'] }
  >;
  ConversationKind: ConversationKind;
  ConversationUpdate: ResolverTypeWrapper<ConversationUpdatePayload>;
  ConversationUpdateReason: ConversationUpdateReason;
  ConversationVisibility: ConversationVisibility;
  CreateGroupConversationInput: CreateGroupConversationInput;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  EditMessageInput: EditMessageInput;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Invite: ResolverTypeWrapper<InviteRow>;
  LoginInput: LoginInput;
  MemberRole: MemberRole;
  Membership: ResolverTypeWrapper<MemberRow>;
  Message: ResolverTypeWrapper<MessageRow>;
  MessageConnection: ResolverTypeWrapper<
    Omit<MessageConnection, 'edges'> & { edges: Array<ResolversTypes['MessageEdge']> }
  >;
  MessageEdge: ResolverTypeWrapper<Omit<MessageEdge, 'node'> & { node: ResolversTypes['Message'] }>;
  MessageEdit: ResolverTypeWrapper<MessageEdit>;
  MessageKind: MessageKind;
  MessageSearchConnection: ResolverTypeWrapper<
    Omit<MessageSearchConnection, 'edges'> & { edges: Array<ResolversTypes['MessageSearchEdge']> }
  >;
  MessageSearchEdge: ResolverTypeWrapper<
    Omit<MessageSearchEdge, 'node'> & { node: ResolversTypes['Message'] }
  >;
  MessageStatus: MessageStatus;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Node: ResolverTypeWrapper<ResolversInterfaceTypes<ResolversTypes>['Node']>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Presence: ResolverTypeWrapper<PresencePayload>;
  PresenceStatus: PresenceStatus;
  PushSubscriptionInput: PushSubscriptionInput;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ReactionGroup: ResolverTypeWrapper<ReactionGroupView>;
  ReadReceipt: ResolverTypeWrapper<ReceiptPayload>;
  RegisterInput: RegisterInput;
  SendMessageInput: SendMessageInput;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SystemEvent: ResolverTypeWrapper<SystemEventView>;
  SystemEventType: SystemEventType;
  TypingEvent: ResolverTypeWrapper<TypingPayload>;
  UpdateConversationInput: UpdateConversationInput;
  UpdateProfileInput: UpdateProfileInput;
  User: ResolverTypeWrapper<PublicUser>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  Attachment: AttachmentRow;
  AuthPayload: Omit<AuthPayload, 'user'> & { user: ResolversParentTypes['User'] };
  Boolean: Scalars['Boolean']['output'];
  Conversation: ConversationView;
  ConversationConnection: Omit<ConversationConnection, 'edges'> & {
    edges: Array<ResolversParentTypes['ConversationEdge']>;
  };
  ConversationEdge: Omit<ConversationEdge, 'node'> & { node: ResolversParentTypes['Conversation'] };
  ConversationUpdate: ConversationUpdatePayload;
  CreateGroupConversationInput: CreateGroupConversationInput;
  DateTime: Scalars['DateTime']['output'];
  EditMessageInput: EditMessageInput;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  Invite: InviteRow;
  LoginInput: LoginInput;
  Membership: MemberRow;
  Message: MessageRow;
  MessageConnection: Omit<MessageConnection, 'edges'> & {
    edges: Array<ResolversParentTypes['MessageEdge']>;
  };
  MessageEdge: Omit<MessageEdge, 'node'> & { node: ResolversParentTypes['Message'] };
  MessageEdit: MessageEdit;
  MessageSearchConnection: Omit<MessageSearchConnection, 'edges'> & {
    edges: Array<ResolversParentTypes['MessageSearchEdge']>;
  };
  MessageSearchEdge: Omit<MessageSearchEdge, 'node'> & { node: ResolversParentTypes['Message'] };
  Mutation: Record<PropertyKey, never>;
  Node: ResolversInterfaceTypes<ResolversParentTypes>['Node'];
  PageInfo: PageInfo;
  Presence: PresencePayload;
  PushSubscriptionInput: PushSubscriptionInput;
  Query: Record<PropertyKey, never>;
  ReactionGroup: ReactionGroupView;
  ReadReceipt: ReceiptPayload;
  RegisterInput: RegisterInput;
  SendMessageInput: SendMessageInput;
  String: Scalars['String']['output'];
  Subscription: Record<PropertyKey, never>;
  SystemEvent: SystemEventView;
  TypingEvent: TypingPayload;
  UpdateConversationInput: UpdateConversationInput;
  UpdateProfileInput: UpdateProfileInput;
  User: PublicUser;
};

export type AttachmentResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Attachment'] = ResolversParentTypes['Attachment'],
> = {
  filename?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  height?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  mimeType?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  size?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  thumbnailUrl?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  url?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  width?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type AuthPayloadResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['AuthPayload'] = ResolversParentTypes['AuthPayload'],
> = {
  token?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
};

export type ConversationResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Conversation'] = ResolversParentTypes['Conversation'],
> = {
  avatar?: Resolver<Maybe<ResolversTypes['Attachment']>, ParentType, ContextType>;
  description?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  isMuted?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['ConversationKind'], ParentType, ContextType>;
  lastMessage?: Resolver<Maybe<ResolversTypes['Message']>, ParentType, ContextType>;
  memberCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  members?: Resolver<Array<ResolversTypes['User']>, ParentType, ContextType>;
  memberships?: Resolver<Array<ResolversTypes['Membership']>, ParentType, ContextType>;
  messages?: Resolver<
    ResolversTypes['MessageConnection'],
    ParentType,
    ContextType,
    Partial<ConversationMessagesArgs>
  >;
  mutedUntil?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  myRole?: Resolver<Maybe<ResolversTypes['MemberRole']>, ParentType, ContextType>;
  readReceipts?: Resolver<Array<ResolversTypes['ReadReceipt']>, ParentType, ContextType>;
  title?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  unreadCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unreadMentionCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  visibility?: Resolver<ResolversTypes['ConversationVisibility'], ParentType, ContextType>;
  __isTypeOf?: IsTypeOfResolverFn<ParentType, ContextType>;
};

export type ConversationConnectionResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['ConversationConnection'] =
    ResolversParentTypes['ConversationConnection'],
> = {
  edges?: Resolver<Array<ResolversTypes['ConversationEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
};

export type ConversationEdgeResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['ConversationEdge'] =
    ResolversParentTypes['ConversationEdge'],
> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Conversation'], ParentType, ContextType>;
};

export type ConversationUpdateResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['ConversationUpdate'] =
    ResolversParentTypes['ConversationUpdate'],
> = {
  conversation?: Resolver<ResolversTypes['Conversation'], ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['ConversationUpdateReason'], ParentType, ContextType>;
};

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<
  ResolversTypes['DateTime'],
  any
> {
  name: 'DateTime';
}

export type InviteResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Invite'] = ResolversParentTypes['Invite'],
> = {
  code?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  conversationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  expiresAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  usesLeft?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type MembershipResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Membership'] = ResolversParentTypes['Membership'],
> = {
  joinedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  lastReadSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  role?: Resolver<ResolversTypes['MemberRole'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
};

export type MessageResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Message'] = ResolversParentTypes['Message'],
> = {
  attachments?: Resolver<Array<ResolversTypes['Attachment']>, ParentType, ContextType>;
  body?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  clientMessageId?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  conversationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  deletedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  editedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  edits?: Resolver<Array<ResolversTypes['MessageEdit']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  kind?: Resolver<ResolversTypes['MessageKind'], ParentType, ContextType>;
  mentions?: Resolver<Array<ResolversTypes['User']>, ParentType, ContextType>;
  reactions?: Resolver<Array<ResolversTypes['ReactionGroup']>, ParentType, ContextType>;
  replies?: Resolver<
    ResolversTypes['MessageConnection'],
    ParentType,
    ContextType,
    Partial<MessageRepliesArgs>
  >;
  replyCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  replyTo?: Resolver<Maybe<ResolversTypes['Message']>, ParentType, ContextType>;
  sender?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
  senderBlocked?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  seq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['MessageStatus'], ParentType, ContextType>;
  streamCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  systemEvent?: Resolver<Maybe<ResolversTypes['SystemEvent']>, ParentType, ContextType>;
  __isTypeOf?: IsTypeOfResolverFn<ParentType, ContextType>;
};

export type MessageConnectionResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['MessageConnection'] =
    ResolversParentTypes['MessageConnection'],
> = {
  edges?: Resolver<Array<ResolversTypes['MessageEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
};

export type MessageEdgeResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['MessageEdge'] = ResolversParentTypes['MessageEdge'],
> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
};

export type MessageEditResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['MessageEdit'] = ResolversParentTypes['MessageEdit'],
> = {
  body?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  editedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type MessageSearchConnectionResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['MessageSearchConnection'] =
    ResolversParentTypes['MessageSearchConnection'],
> = {
  edges?: Resolver<Array<ResolversTypes['MessageSearchEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
};

export type MessageSearchEdgeResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['MessageSearchEdge'] =
    ResolversParentTypes['MessageSearchEdge'],
> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
  snippet?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MutationResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation'],
> = {
  addMembers?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationAddMembersArgs, 'conversationId'>
  >;
  addReaction?: Resolver<
    ResolversTypes['Message'],
    ParentType,
    ContextType,
    RequireFields<MutationAddReactionArgs, 'emoji' | 'messageId'>
  >;
  blockUser?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationBlockUserArgs, 'userId'>
  >;
  createGroupConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationCreateGroupConversationArgs, 'input'>
  >;
  createInvite?: Resolver<
    ResolversTypes['Invite'],
    ParentType,
    ContextType,
    RequireFields<MutationCreateInviteArgs, 'conversationId'>
  >;
  deleteMessage?: Resolver<
    ResolversTypes['Message'],
    ParentType,
    ContextType,
    RequireFields<MutationDeleteMessageArgs, 'messageId'>
  >;
  editMessage?: Resolver<
    ResolversTypes['Message'],
    ParentType,
    ContextType,
    RequireFields<MutationEditMessageArgs, 'input'>
  >;
  joinConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    Partial<MutationJoinConversationArgs>
  >;
  leaveConversation?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationLeaveConversationArgs, 'conversationId'>
  >;
  login?: Resolver<
    ResolversTypes['AuthPayload'],
    ParentType,
    ContextType,
    RequireFields<MutationLoginArgs, 'input'>
  >;
  markRead?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationMarkReadArgs, 'messageId'>
  >;
  markUnread?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationMarkUnreadArgs, 'messageId'>
  >;
  muteConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationMuteConversationArgs, 'conversationId'>
  >;
  register?: Resolver<
    ResolversTypes['AuthPayload'],
    ParentType,
    ContextType,
    RequireFields<MutationRegisterArgs, 'input'>
  >;
  registerPushSubscription?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationRegisterPushSubscriptionArgs, 'input'>
  >;
  removeMember?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationRemoveMemberArgs, 'conversationId' | 'userId'>
  >;
  removeReaction?: Resolver<
    ResolversTypes['Message'],
    ParentType,
    ContextType,
    RequireFields<MutationRemoveReactionArgs, 'emoji' | 'messageId'>
  >;
  revokeInvite?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationRevokeInviteArgs, 'code'>
  >;
  sendMessage?: Resolver<
    ResolversTypes['Message'],
    ParentType,
    ContextType,
    RequireFields<MutationSendMessageArgs, 'input'>
  >;
  setMemberRole?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationSetMemberRoleArgs, 'conversationId' | 'role' | 'userId'>
  >;
  setTyping?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationSetTypingArgs, 'conversationId' | 'isTyping'>
  >;
  startDirectConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    Partial<MutationStartDirectConversationArgs>
  >;
  unblockUser?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationUnblockUserArgs, 'userId'>
  >;
  unmuteConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationUnmuteConversationArgs, 'conversationId'>
  >;
  unregisterPushSubscription?: Resolver<
    ResolversTypes['Boolean'],
    ParentType,
    ContextType,
    RequireFields<MutationUnregisterPushSubscriptionArgs, 'endpoint'>
  >;
  updateConversation?: Resolver<
    ResolversTypes['Conversation'],
    ParentType,
    ContextType,
    RequireFields<MutationUpdateConversationArgs, 'input'>
  >;
  updateProfile?: Resolver<
    ResolversTypes['User'],
    ParentType,
    ContextType,
    RequireFields<MutationUpdateProfileArgs, 'input'>
  >;
};

export type NodeResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Node'] = ResolversParentTypes['Node'],
> = {
  __resolveType: TypeResolveFn<'Conversation' | 'Message' | 'User', ParentType, ContextType>;
};

export type PageInfoResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo'],
> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  hasPreviousPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  startCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type PresenceResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Presence'] = ResolversParentTypes['Presence'],
> = {
  lastSeenAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['PresenceStatus'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
};

export type QueryResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query'],
> = {
  blockedUsers?: Resolver<Array<ResolversTypes['User']>, ParentType, ContextType>;
  conversation?: Resolver<
    Maybe<ResolversTypes['Conversation']>,
    ParentType,
    ContextType,
    RequireFields<QueryConversationArgs, 'id'>
  >;
  conversations?: Resolver<
    ResolversTypes['ConversationConnection'],
    ParentType,
    ContextType,
    Partial<QueryConversationsArgs>
  >;
  me?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
  messages?: Resolver<
    ResolversTypes['MessageConnection'],
    ParentType,
    ContextType,
    RequireFields<QueryMessagesArgs, 'conversationId'>
  >;
  node?: Resolver<
    Maybe<ResolversTypes['Node']>,
    ParentType,
    ContextType,
    RequireFields<QueryNodeArgs, 'id'>
  >;
  nodes?: Resolver<
    Array<Maybe<ResolversTypes['Node']>>,
    ParentType,
    ContextType,
    RequireFields<QueryNodesArgs, 'ids'>
  >;
  publicConversations?: Resolver<
    ResolversTypes['ConversationConnection'],
    ParentType,
    ContextType,
    Partial<QueryPublicConversationsArgs>
  >;
  searchMessages?: Resolver<
    ResolversTypes['MessageSearchConnection'],
    ParentType,
    ContextType,
    RequireFields<QuerySearchMessagesArgs, 'query'>
  >;
  userByEmail?: Resolver<
    Maybe<ResolversTypes['User']>,
    ParentType,
    ContextType,
    RequireFields<QueryUserByEmailArgs, 'email'>
  >;
  userByPhone?: Resolver<
    Maybe<ResolversTypes['User']>,
    ParentType,
    ContextType,
    RequireFields<QueryUserByPhoneArgs, 'phone'>
  >;
  vapidPublicKey?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type ReactionGroupResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['ReactionGroup'] = ResolversParentTypes['ReactionGroup'],
> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  emoji?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  reactedByMe?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  users?: Resolver<
    Array<ResolversTypes['User']>,
    ParentType,
    ContextType,
    Partial<ReactionGroupUsersArgs>
  >;
};

export type ReadReceiptResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['ReadReceipt'] = ResolversParentTypes['ReadReceipt'],
> = {
  conversationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  lastReadSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  readAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
};

export type SubscriptionResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription'],
> = {
  conversationUpdated?: SubscriptionResolver<
    ResolversTypes['ConversationUpdate'],
    'conversationUpdated',
    ParentType,
    ContextType
  >;
  messageAdded?: SubscriptionResolver<
    ResolversTypes['Message'],
    'messageAdded',
    ParentType,
    ContextType,
    Partial<SubscriptionMessageAddedArgs>
  >;
  messageUpdated?: SubscriptionResolver<
    ResolversTypes['Message'],
    'messageUpdated',
    ParentType,
    ContextType,
    Partial<SubscriptionMessageUpdatedArgs>
  >;
  presenceChanged?: SubscriptionResolver<
    ResolversTypes['Presence'],
    'presenceChanged',
    ParentType,
    ContextType,
    Partial<SubscriptionPresenceChangedArgs>
  >;
  readReceiptUpdated?: SubscriptionResolver<
    ResolversTypes['ReadReceipt'],
    'readReceiptUpdated',
    ParentType,
    ContextType,
    RequireFields<SubscriptionReadReceiptUpdatedArgs, 'conversationId'>
  >;
  typingChanged?: SubscriptionResolver<
    ResolversTypes['TypingEvent'],
    'typingChanged',
    ParentType,
    ContextType,
    RequireFields<SubscriptionTypingChangedArgs, 'conversationId'>
  >;
};

export type SystemEventResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['SystemEvent'] = ResolversParentTypes['SystemEvent'],
> = {
  actor?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
  fields?: Resolver<Maybe<Array<ResolversTypes['String']>>, ParentType, ContextType>;
  role?: Resolver<Maybe<ResolversTypes['MemberRole']>, ParentType, ContextType>;
  subject?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
  subjects?: Resolver<Array<ResolversTypes['User']>, ParentType, ContextType>;
  title?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  type?: Resolver<ResolversTypes['SystemEventType'], ParentType, ContextType>;
};

export type TypingEventResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['TypingEvent'] = ResolversParentTypes['TypingEvent'],
> = {
  conversationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  isTyping?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  user?: Resolver<ResolversTypes['User'], ParentType, ContextType>;
};

export type UserResolvers<
  ContextType = GraphQLContext,
  ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'],
> = {
  displayName?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  email?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  phone?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  presence?: Resolver<Maybe<ResolversTypes['Presence']>, ParentType, ContextType>;
  totalUnreadCount?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  __isTypeOf?: IsTypeOfResolverFn<ParentType, ContextType>;
};

export type Resolvers<ContextType = GraphQLContext> = {
  Attachment?: AttachmentResolvers<ContextType>;
  AuthPayload?: AuthPayloadResolvers<ContextType>;
  Conversation?: ConversationResolvers<ContextType>;
  ConversationConnection?: ConversationConnectionResolvers<ContextType>;
  ConversationEdge?: ConversationEdgeResolvers<ContextType>;
  ConversationUpdate?: ConversationUpdateResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  Invite?: InviteResolvers<ContextType>;
  Membership?: MembershipResolvers<ContextType>;
  Message?: MessageResolvers<ContextType>;
  MessageConnection?: MessageConnectionResolvers<ContextType>;
  MessageEdge?: MessageEdgeResolvers<ContextType>;
  MessageEdit?: MessageEditResolvers<ContextType>;
  MessageSearchConnection?: MessageSearchConnectionResolvers<ContextType>;
  MessageSearchEdge?: MessageSearchEdgeResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Node?: NodeResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Presence?: PresenceResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  ReactionGroup?: ReactionGroupResolvers<ContextType>;
  ReadReceipt?: ReadReceiptResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
  SystemEvent?: SystemEventResolvers<ContextType>;
  TypingEvent?: TypingEventResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
};
