import type { Resolvers } from '../__generated__/resolvers.js';
import { notingWrites } from '../read-your-writes.js';
import { addMembers } from './mutation/addMembers.js';
import { createGroupConversation } from './mutation/createGroupConversation.js';
import { deleteMessage } from './mutation/deleteMessage.js';
import { editMessage } from './mutation/editMessage.js';
import { leaveConversation } from './mutation/leaveConversation.js';
import { login } from './mutation/login.js';
import { markRead } from './mutation/markRead.js';
import { markUnread } from './mutation/markUnread.js';
import { register } from './mutation/register.js';
import { sendMessage } from './mutation/sendMessage.js';
import { startDirectConversation } from './mutation/startDirectConversation.js';
import { updateProfile } from './mutation/updateProfile.js';
import { conversation } from './query/conversation.js';
import { conversations } from './query/conversations.js';
import { me } from './query/me.js';
import { messages } from './query/messages.js';
import { node } from './query/node.js';
import { nodes } from './query/nodes.js';
import { userByEmail } from './query/userByEmail.js';
import { userByPhone } from './query/userByPhone.js';
import { vapidPublicKey } from './query/vapidPublicKey.js';
import { blockedUsers } from './query/blockedUsers.js';
import { muteConversation } from './mutation/muteConversation.js';
import { unmuteConversation } from './mutation/unmuteConversation.js';
import { blockUser } from './mutation/blockUser.js';
import { unblockUser } from './mutation/unblockUser.js';
import { registerPushSubscription } from './mutation/registerPushSubscription.js';
import { unregisterPushSubscription } from './mutation/unregisterPushSubscription.js';
import { Conversation } from './types/Conversation.js';
import { ReadReceipt } from './types/ReadReceipt.js';
import { Presence } from './types/Presence.js';
import { presenceChanged } from './subscription/presenceChanged.js';
import { TypingEvent } from './types/TypingEvent.js';
import { setTyping } from './mutation/setTyping.js';
import { messageAdded } from './subscription/messageAdded.js';
import { messageUpdated } from './subscription/messageUpdated.js';
import { readReceiptUpdated } from './subscription/readReceiptUpdated.js';
import { typingChanged } from './subscription/typingChanged.js';
import { conversationUpdated } from './subscription/conversationUpdated.js';
import { ConversationUpdate } from './types/ConversationUpdate.js';
import { Attachment } from './types/Attachment.js';
import { DateTime } from './types/DateTime.js';
import { Message } from './types/Message.js';
import { Node } from './types/Node.js';
import { User } from './types/User.js';
import { Membership } from './types/Membership.js';
import { SystemEvent } from './types/SystemEvent.js';
import { removeMember } from './mutation/removeMember.js';
import { setMemberRole } from './mutation/setMemberRole.js';
import { updateConversation } from './mutation/updateConversation.js';
import { createInvite } from './mutation/createInvite.js';
import { revokeInvite } from './mutation/revokeInvite.js';
import { joinConversation } from './mutation/joinConversation.js';
import { publicConversations } from './query/publicConversations.js';
import { addReaction } from './mutation/addReaction.js';
import { removeReaction } from './mutation/removeReaction.js';
import { ReactionGroup } from './types/ReactionGroup.js';
import { searchMessages } from './query/searchMessages.js';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    me,
    userByPhone,
    userByEmail,
    conversation,
    conversations,
    messages,
    node,
    nodes,
    vapidPublicKey,
    blockedUsers,
    publicConversations,
    searchMessages,
  },
  Mutation: notingWrites({
    register,
    login,
    updateProfile,
    startDirectConversation,
    createGroupConversation,
    addMembers,
    leaveConversation,
    sendMessage,
    editMessage,
    deleteMessage,
    markRead,
    markUnread,
    setTyping,
    registerPushSubscription,
    unregisterPushSubscription,
    muteConversation,
    unmuteConversation,
    blockUser,
    unblockUser,
    removeMember,
    setMemberRole,
    updateConversation,
    createInvite,
    revokeInvite,
    joinConversation,
    addReaction,
    removeReaction,
  }),
  Subscription: {
    messageAdded,
    messageUpdated,
    typingChanged,
    readReceiptUpdated,
    presenceChanged,
    conversationUpdated,
  },
  Node,
  User,
  Conversation,
  ConversationUpdate,
  Message,
  Attachment,
  TypingEvent,
  ReadReceipt,
  Presence,
  Membership,
  SystemEvent,
  ReactionGroup,
};
