-- A message event carries what its subscribers need, so delivering it costs no statement: the
-- sender's public fields (as they were when it was sent) and the conversation's member_version
-- (an instance that knows the members at an older version reloads them before delivering).
-- parley_send_message (0004) reads both under the lock it already takes and returns them.
ALTER TABLE "conversations" ADD COLUMN "member_version" integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
DROP FUNCTION parley_send_message(uuid, uuid, text, text, text, uuid[]);
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
  outbox_id bigint,
  sender_phone text,
  sender_display_name text,
  member_version integer
) LANGUAGE plpgsql AS $$
DECLARE
  v_seq integer;
  v_at timestamptz;
  v_outbox bigint;
  v_count smallint := coalesce(cardinality(p_attachment_ids), 0);
  v_found integer;
  v_phone text;
  v_name text;
  v_version integer;
BEGIN
  SELECT u.phone, u.display_name, c.member_version INTO v_phone, v_name, v_version
     FROM conversations c
     JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = p_sender_id
     JOIN users u ON u.id = p_sender_id
    WHERE c.id = p_conversation_id
      FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  IF p_client_message_id IS NOT NULL THEN
    RETURN QUERY
      SELECT m.conversation_id, m.seq, m.sender_id, m.body, m.client_message_id,
             m.created_at, m.edited_at, m.deleted_at, m.attachment_count, true, NULL::bigint,
             v_phone, v_name, v_version
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
        'attachmentCount', v_count,
        'sender', json_build_object('id', p_sender_id, 'phone', v_phone, 'displayName', v_name),
        'memberVersion', v_version
      )
    )::text
  )
  RETURNING id INTO v_outbox;

  RETURN QUERY SELECT p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id,
                      v_at, NULL::timestamptz, NULL::timestamptz, v_count, false, v_outbox,
                      v_phone, v_name, v_version;
END;
$$;
