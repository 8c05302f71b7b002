-- Sending a message in one round trip: check membership while locking the conversation row,
-- return the stored message for a repeated client_message_id, else take the next seq, insert,
-- mark it read for the sender, and write the outbox row, all in the caller's transaction.
-- Returns no row when the sender is not a member (or the conversation does not exist).
CREATE FUNCTION parley_send_message(
  p_conversation_id uuid,
  p_sender_id uuid,
  p_body text,
  p_client_message_id text,
  p_topic text
) RETURNS TABLE (
  conversation_id uuid,
  seq integer,
  sender_id uuid,
  body text,
  client_message_id text,
  created_at timestamptz,
  edited_at timestamptz,
  deleted_at timestamptz,
  existed boolean,
  outbox_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
  v_seq integer;
  v_at timestamptz;
  v_outbox bigint;
BEGIN
  PERFORM 1
     FROM conversations c
     JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = p_sender_id
    WHERE c.id = p_conversation_id
      FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  IF p_client_message_id IS NOT NULL THEN
    RETURN QUERY
      SELECT m.conversation_id, m.seq, m.sender_id, m.body, m.client_message_id,
             m.created_at, m.edited_at, m.deleted_at, true, NULL::bigint
        FROM messages m
       WHERE m.conversation_id = p_conversation_id
         AND m.sender_id = p_sender_id
         AND m.client_message_id = p_client_message_id;
    IF FOUND THEN
      RETURN;
    END IF;
  END IF;

  UPDATE conversations c
     SET last_seq = c.last_seq + 1,
         updated_at = greatest(now(), c.updated_at)
   WHERE c.id = p_conversation_id
  RETURNING c.last_seq, c.updated_at INTO v_seq, v_at;

  INSERT INTO messages (conversation_id, seq, sender_id, body, client_message_id, created_at)
  VALUES (p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id, v_at);

  -- A member's own messages count as read.
  UPDATE conversation_members m
     SET last_read_seq = greatest(m.last_read_seq, v_seq),
         last_delivered_seq = greatest(m.last_delivered_seq, v_seq)
   WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_id;

  INSERT INTO outbox (conversation_id, topic, payload)
  VALUES (
    p_conversation_id,
    p_topic,
    json_build_object(
      'type', 'messageAdded',
      'message', json_build_object(
        'conversationId', p_conversation_id,
        'seq', v_seq,
        'senderId', p_sender_id,
        'body', p_body,
        'clientMessageId', p_client_message_id,
        'createdAt', to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'editedAt', NULL,
        'deletedAt', NULL
      )
    )::text
  )
  RETURNING id INTO v_outbox;

  RETURN QUERY SELECT p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id,
                      v_at, NULL::timestamptz, NULL::timestamptz, false, v_outbox;
END;
$$;
