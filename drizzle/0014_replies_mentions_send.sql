-- Replies and mentions in the send (issue 18). The send functions of drizzle/0010 with, beside
-- what they returned, the message's reply_to_seq, reply_count and mention_user_ids (a retried
-- send returns the original as stored). A single send (parley_send_message) also takes a reply
-- target and mentions, checked and stored under the conversation's row lock:
--   - the target must be a message of the conversation (else SQLSTATE PY001), a person's and not
--     deleted (else PY002); its reply_count grows by one in the same transaction;
--   - each mentioned user must be a member now (else PY003); the message keeps them in the order
--     given (mention_user_ids), and each but the sender gets a message_mentions row.
-- A retry (same sender and client message id) returns the original before any check: it counts
-- nothing twice. The group commit batch (parley_send_messages) sends plain messages only.
-- A different argument list would add an overload beside the old function, and a different
-- result a refusal to replace it: the old ones are dropped first.
DROP FUNCTION IF EXISTS parley_send_message(uuid, uuid, text, text, uuid[]);
--> statement-breakpoint
DROP FUNCTION IF EXISTS parley_send_messages(uuid, uuid[], text[], text[]);
--> statement-breakpoint
CREATE FUNCTION parley_send_message(
  p_conversation_id uuid,
  p_sender_id uuid,
  p_body text,
  p_client_message_id text,
  p_attachment_ids uuid[] DEFAULT NULL,
  p_reply_to_seq integer DEFAULT NULL,
  p_mention_user_ids uuid[] DEFAULT NULL
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
  member_version integer,
  change_seq integer,
  reply_to_seq integer,
  reply_count integer,
  mention_user_ids uuid[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_seq integer;
  v_at timestamptz;
  v_outbox bigint;
  v_count smallint := coalesce(cardinality(p_attachment_ids), 0);
  v_mentions uuid[] := CASE WHEN cardinality(p_mention_user_ids) > 0 THEN p_mention_user_ids END;
  v_found integer;
  v_phone text;
  v_name text;
  v_version integer;
  v_kind text;
  v_deleted timestamptz;
BEGIN
  SELECT u.phone, u.display_name, c.member_version INTO v_phone, v_name, v_version
     FROM conversations c
     JOIN conversation_members m ON m.conversation_id = c.id AND m.user_id = p_sender_id
     JOIN users u ON u.id = p_sender_id
    WHERE c.id = p_conversation_id
      AND NOT (c.kind = 'DIRECT' AND EXISTS (
            SELECT 1 FROM user_blocks b
              JOIN conversation_members o
                ON o.conversation_id = c.id AND o.user_id = b.blocker_id
             WHERE b.blocked_id = p_sender_id))
      FOR UPDATE OF c;
  IF NOT FOUND THEN
    RETURN;
  END IF;

  IF p_client_message_id IS NOT NULL THEN
    RETURN QUERY
      SELECT m.conversation_id, m.seq, m.sender_id, m.body, m.client_message_id,
             m.created_at, m.edited_at, m.deleted_at, m.attachment_count, true, NULL::bigint,
             v_phone, v_name, v_version, m.change_seq, m.reply_to_seq, m.reply_count,
             m.mention_user_ids
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

  IF p_reply_to_seq IS NOT NULL THEN
    -- Deletes take the conversation's lock too: the target cannot be deleted meanwhile.
    SELECT m.kind, m.deleted_at INTO v_kind, v_deleted
      FROM messages m
     WHERE m.conversation_id = p_conversation_id AND m.seq = p_reply_to_seq;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'reply target not found' USING ERRCODE = 'PY001';
    END IF;
    IF v_kind <> 'USER' OR v_deleted IS NOT NULL THEN
      RAISE EXCEPTION 'reply target deleted or not a person''s message' USING ERRCODE = 'PY002';
    END IF;
  END IF;

  IF v_mentions IS NOT NULL THEN
    -- Members join and leave under the conversation's lock: these are members at the send.
    SELECT count(*) INTO v_found
      FROM conversation_members m
     WHERE m.conversation_id = p_conversation_id AND m.user_id = ANY (v_mentions);
    -- (Ids come distinct: a repeated one would count once here and be refused too.)
    IF v_found <> cardinality(v_mentions) THEN
      RAISE EXCEPTION 'mentioned user is not a member' USING ERRCODE = 'PY003';
    END IF;
  END IF;

  UPDATE conversations c
     SET last_seq = c.last_seq + 1,
         updated_at = greatest(now(), c.updated_at)
   WHERE c.id = p_conversation_id
  RETURNING c.last_seq, c.updated_at INTO v_seq, v_at;

  INSERT INTO messages (conversation_id, seq, sender_id, body, client_message_id, created_at,
                        attachment_count, reply_to_seq, mention_user_ids)
  VALUES (p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id, v_at, v_count,
          p_reply_to_seq, v_mentions);

  IF v_count > 0 THEN
    UPDATE attachments a
       SET conversation_id = p_conversation_id,
           message_seq = v_seq,
           position = o.ord - 1
      FROM unnest(p_attachment_ids) WITH ORDINALITY AS o(id, ord)
     WHERE a.id = o.id;
  END IF;

  IF p_reply_to_seq IS NOT NULL THEN
    UPDATE messages m
       SET reply_count = m.reply_count + 1
     WHERE m.conversation_id = p_conversation_id AND m.seq = p_reply_to_seq;
  END IF;

  IF v_mentions IS NOT NULL THEN
    INSERT INTO message_mentions (conversation_id, user_id, seq)
    SELECT p_conversation_id, u, v_seq
      FROM unnest(v_mentions) AS u
     WHERE u <> p_sender_id;
  END IF;

  -- A member's own messages count as read.
  UPDATE conversation_members m
     SET last_read_seq = greatest(m.last_read_seq, v_seq),
         last_delivered_seq = greatest(m.last_delivered_seq, v_seq)
   WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_id;

  INSERT INTO outbox (conversation_id, payload)
  VALUES (p_conversation_id, json_build_object('kind', 'messageAdded', 'seq', v_seq)::text)
  RETURNING id INTO v_outbox;

  RETURN QUERY SELECT p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id,
                      v_at, NULL::timestamptz, NULL::timestamptz, v_count, false, v_outbox,
                      v_phone, v_name, v_version, NULL::integer, p_reply_to_seq, 0, v_mentions;
END;
$$;
--> statement-breakpoint
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
  change_seq integer,
  reply_to_seq integer,
  reply_count integer,
  mention_user_ids uuid[]
) LANGUAGE plpgsql AS $$
DECLARE
  v_kind text;
  v_version integer;
  v_last integer;
  v_seq integer;
  v_at timestamptz;
  v_phone text;
  v_name text;
  v_outbox bigint;
  v_stored messages%ROWTYPE;
BEGIN
  SELECT c.member_version, c.last_seq, greatest(now(), c.updated_at), c.kind
    INTO v_version, v_last, v_at, v_kind
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
     WHERE m.conversation_id = p_conversation_id AND m.user_id = p_sender_ids[i]
       AND NOT (v_kind = 'DIRECT' AND EXISTS (
             SELECT 1 FROM user_blocks b
               JOIN conversation_members o
                 ON o.conversation_id = p_conversation_id AND o.user_id = b.blocker_id
              WHERE b.blocked_id = p_sender_ids[i]));
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
                            true, NULL::bigint, v_phone, v_name, v_version, v_stored.change_seq,
                            v_stored.reply_to_seq, v_stored.reply_count,
                            v_stored.mention_user_ids;
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
                        0::smallint, false, v_outbox, v_phone, v_name, v_version, NULL::integer,
                        NULL::integer, 0, NULL::uuid[];
  END LOOP;

  IF v_seq > v_last THEN
    UPDATE conversations c
       SET last_seq = v_seq,
           updated_at = v_at
     WHERE c.id = p_conversation_id;
  END IF;
END;
$$;
--> statement-breakpoint
-- The push check of drizzle/0011, but a member who muted the conversation is still pushed (and
-- gets message.undelivered) for a message that mentions them. Blocked senders still never push.
CREATE OR REPLACE FUNCTION parley_push_check(p_conversation_id uuid) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  s notification_settings%ROWTYPE;
  v_cursor integer;
  v_due integer;
  v_next timestamptz;
  v_claims integer := 0;
  v_n integer;
  r record;
BEGIN
  SELECT * INTO s FROM notification_settings WHERE id = 1;
  IF cardinality(s.webhook_endpoints) > 0 THEN
    -- Webhook events of a conversation are written under its row lock (ids in commit order).
    PERFORM 1 FROM conversations c WHERE c.id = p_conversation_id FOR UPDATE;
  END IF;
  SELECT pc.last_seq INTO v_cursor FROM push_cursors pc
   WHERE pc.conversation_id = p_conversation_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  SELECT max(m.seq) INTO v_due FROM messages m
   WHERE m.conversation_id = p_conversation_id AND m.seq > v_cursor
     AND m.created_at <= now() - s.push_delay_ms * interval '1 millisecond';

  IF v_due IS NOT NULL THEN
    FOR r IN
      SELECT m.seq, cm.user_id
        FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id
       WHERE m.conversation_id = p_conversation_id
         AND m.seq > v_cursor AND m.seq <= v_due
         AND m.deleted_at IS NULL
         AND m.kind = 'USER'
         AND cm.user_id <> m.sender_id
         AND cm.joined_seq < m.seq
         AND cm.last_delivered_seq < m.seq
         AND cm.last_read_seq < m.seq
         -- A muted conversation pushes only the messages that mention the member.
         AND (cm.muted_until IS NULL OR cm.muted_until <= now()
              OR cm.user_id = ANY (m.mention_user_ids))
         -- Blocked senders never push.
         AND NOT EXISTS (SELECT 1 FROM user_blocks b
                          WHERE b.blocker_id = cm.user_id AND b.blocked_id = m.sender_id)
       ORDER BY m.seq, cm.user_id
    LOOP
      IF s.push_enabled THEN
        INSERT INTO push_deliveries (conversation_id, seq, endpoint, user_id)
        SELECT p_conversation_id, r.seq, ps.endpoint, ps.user_id
          FROM push_subscriptions ps WHERE ps.user_id = r.user_id
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_claims := v_claims + v_n;
      END IF;
      IF cardinality(s.webhook_endpoints) > 0 THEN
        PERFORM parley_webhook_event(p_conversation_id, 'message.undelivered', r.seq, r.user_id,
                                     s.webhook_endpoints);
      END IF;
    END LOOP;
    IF v_claims > 0 THEN
      -- One job sends the pushes claimed here (each retried on its own if it fails).
      PERFORM graphile_worker.add_job(
        'parley_push_batch',
        json_build_object('c', p_conversation_id, 'from', v_cursor + 1, 'to', v_due));
    END IF;
    UPDATE push_cursors SET last_seq = v_due WHERE conversation_id = p_conversation_id;
    v_cursor := v_due;
  END IF;

  -- The next check: when the next message is due, or none until a message comes.
  SELECT m.created_at INTO v_next FROM messages m
   WHERE m.conversation_id = p_conversation_id AND m.seq = v_cursor + 1;
  IF v_next IS NOT NULL THEN
    v_next := greatest(now(), v_next + s.push_delay_ms * interval '1 millisecond');
    UPDATE push_cursors SET check_at = v_next WHERE conversation_id = p_conversation_id;
    PERFORM graphile_worker.add_job(
      'parley_push_check',
      json_build_object('c', p_conversation_id),
      run_at := v_next,
      job_key := 'push-check:' || p_conversation_id);
  ELSE
    UPDATE push_cursors SET check_at = NULL WHERE conversation_id = p_conversation_id;
  END IF;
  RETURN v_claims;
END;
$$;
