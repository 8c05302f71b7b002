// Emoji reactions (issue 18). The rules live here; see drizzle/0012 for the table.

/** One emoji of one message as a viewer sees it: how many reacted and whether the viewer did. */
export interface ReactionGroupView {
  conversationId: string;
  seq: number;
  emoji: string;
  count: number;
  reactedByMe: boolean;
}
