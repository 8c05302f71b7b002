-- parley_send_message (0002) with attachments: p_attachment_ids are uploads of the sender that
-- are not attached yet. They are locked and checked before the seq is taken; if any is missing,
-- someone else's or already attached, the statement fails with SQLSTATE P0002 and writes
-- nothing. Otherwise they get the new message's key in the same statement. With no ids (NULL or
-- an empty array) the send does exactly what it did before. The message row keeps how many
-- attachments it has, so readers look them up only for messages that have some.
DROP FUNCTION parley_send_message(uuid, uuid, text, text, text);
--> statement-breakpoint
CREATE FUNCTION parley_send_message(
  p_conversation_id uuid,
  p_sender_id uuid,
  p_body text,
  p_client_message_id text,
  p_topic text,
  p_attachment_ids uuid[] DEFAULT NULL
) RETURNS TABLE (
  conversation_id uuid,
  seq integer,
  sender_id uuid,
  body text,
  client_message_id text,
  created_at timestamptz,
  edited_at timestamptz,
  deleted_at timestamptz,
  attachment_count smallint,
  existed boolean,
  outbox_id bigint
) LANGUAGE plpgsql AS $$
DECLARE
  v_seq integer;
  v_at timestamptz;
  v_outbox bigint;
  v_count smallint := coalesce(cardinality(p_attachment_ids), 0);
  v_found integer;
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
             m.created_at, m.edited_at, m.deleted_at, m.attachment_count, true, NULL::bigint
        FROM messages m
       WHERE m.conversation_id = p_conversation_id
         AND m.sender_id = p_sender_id
         AND m.client_message_id = p_client_message_id;
    IF FOUND THEN
      RETURN;
    END IF;
  END IF;

  IF v_count > 0 THEN
    SELECT count(*) INTO v_found
      FROM (SELECT 1
              FROM attachments a
             WHERE a.id = ANY (p_attachment_ids)
               AND a.uploader_id = p_sender_id
               AND a.conversation_id IS NULL
               FOR UPDATE OF a) locked;
    IF v_found <> v_count THEN
      RAISE EXCEPTION 'attachment not found' USING ERRCODE = 'P0002';
    END IF;
  END IF;

  UPDATE conversations c
     SET last_seq = c.last_seq + 1,
         updated_at = greatest(now(), c.updated_at)
   WHERE c.id = p_conversation_id
  RETURNING c.last_seq, c.updated_at INTO v_seq, v_at;

  INSERT INTO messages (conversation_id, seq, sender_id, body, client_message_id, created_at,
                        attachment_count)
  VALUES (p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id, v_at, v_count);

  IF v_count > 0 THEN
    UPDATE attachments a
       SET conversation_id = p_conversation_id,
           message_seq = v_seq,
           position = o.ord - 1
      FROM unnest(p_attachment_ids) WITH ORDINALITY AS o(id, ord)
     WHERE a.id = o.id;
  END IF;

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
        'deletedAt', NULL,
        'attachmentCount', v_count
      )
    )::text
  )
  RETURNING id INTO v_outbox;

  RETURN QUERY SELECT p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id,
                      v_at, NULL::timestamptz, NULL::timestamptz, v_count, false, v_outbox;
END;
$$;
