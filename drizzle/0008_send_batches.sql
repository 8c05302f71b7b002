-- Sends into one conversation, many at once: what parley_send_message (0007) does for one
-- message, for a batch of them under one lock and in one commit. An instance gathers the sends
-- it holds for a conversation while the previous batch commits (group commit), so the lock that
-- keeps seq gap-free is taken once per batch instead of once per message.
--
-- Item i is (p_sender_ids[i], p_bodies[i], p_client_message_ids[i]). One row comes back per item
-- whose sender is a member (`ord` = i); an item whose sender is not a member gets no row. A
-- client message id already stored for its sender in the conversation (earlier, or earlier in
-- the same batch: the lookup sees this transaction's own inserts) returns that message with
-- existed = true and writes nothing. Messages with attachments go through parley_send_message.
CREATE FUNCTION parley_send_messages(
  p_conversation_id uuid,
  p_sender_ids uuid[],
  p_bodies text[],
  p_client_message_ids text[]
) RETURNS TABLE (
  ord integer,
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
  member_version integer,
  change_seq integer
) LANGUAGE plpgsql AS $$
DECLARE
  v_version integer;
  v_last integer;
  v_seq integer;
  v_at timestamptz;
  v_phone text;
  v_name text;
  v_outbox bigint;
  v_stored messages%ROWTYPE;
BEGIN
  SELECT c.member_version, c.last_seq, greatest(now(), c.updated_at)
    INTO v_version, v_last, v_at
    FROM conversations c
   WHERE c.id = p_conversation_id
     FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  v_seq := v_last;

  FOR i IN 1 .. coalesce(cardinality(p_sender_ids), 0) LOOP
    SELECT u.phone, u.display_name INTO v_phone, v_name
      FROM conversation_members m
      JOIN users u ON u.id = m.user_id
     WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_ids[i];
    CONTINUE WHEN NOT FOUND;

    IF p_client_message_ids[i] IS NOT NULL THEN
      SELECT * INTO v_stored
        FROM messages m
       WHERE m.conversation_id = p_conversation_id
         AND m.sender_id = p_sender_ids[i]
         AND m.client_message_id = p_client_message_ids[i];
      IF FOUND THEN
        RETURN QUERY SELECT i, v_stored.conversation_id, v_stored.seq, v_stored.sender_id,
                            v_stored.body, v_stored.client_message_id, v_stored.created_at,
                            v_stored.edited_at, v_stored.deleted_at, v_stored.attachment_count,
                            true, NULL::bigint, v_phone, v_name, v_version, v_stored.change_seq;
        CONTINUE;
      END IF;
    END IF;

    v_seq := v_seq + 1;
    INSERT INTO messages (conversation_id, seq, sender_id, body, client_message_id, created_at,
                          attachment_count)
    VALUES (p_conversation_id, v_seq, p_sender_ids[i], p_bodies[i], p_client_message_ids[i], v_at, 0);

    -- A member's own messages count as read.
    UPDATE conversation_members m
       SET last_read_seq = greatest(m.last_read_seq, v_seq),
           last_delivered_seq = greatest(m.last_delivered_seq, v_seq)
     WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_ids[i];

    INSERT INTO outbox (conversation_id, payload)
    VALUES (p_conversation_id, json_build_object('kind', 'messageAdded', 'seq', v_seq)::text)
    RETURNING id INTO v_outbox;

    RETURN QUERY SELECT i, p_conversation_id, v_seq, p_sender_ids[i], p_bodies[i],
                        p_client_message_ids[i], v_at, NULL::timestamptz, NULL::timestamptz,
                        0::smallint, false, v_outbox, v_phone, v_name, v_version, NULL::integer;
  END LOOP;

  IF v_seq > v_last THEN
    UPDATE conversations c
       SET last_seq = v_seq,
           updated_at = v_at
     WHERE c.id = p_conversation_id;
  END IF;
END;
$$;
