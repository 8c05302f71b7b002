CREATE TABLE "user_blocks" (
	"blocker_id" uuid NOT NULL,
	"blocked_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_blocks_blocker_id_blocked_id_pk" PRIMARY KEY("blocker_id","blocked_id")
);
--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "muted_until" timestamp(3) with time zone;--> statement-breakpoint
ALTER TABLE "user_blocks" ADD CONSTRAINT "user_blocks_blocker_id_users_id_fk" FOREIGN KEY ("blocker_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_blocks" ADD CONSTRAINT "user_blocks_blocked_id_users_id_fk" FOREIGN KEY ("blocked_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "user_blocks_blocked_idx" ON "user_blocks" USING btree ("blocked_id");--> statement-breakpoint
-- The push check of drizzle/0009, leaving out members who muted the conversation (until a time
-- or for good) and members who blocked the sender: no push and no message.undelivered for them.
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
         AND cm.user_id <> m.sender_id
         AND cm.joined_seq < m.seq
         AND cm.last_delivered_seq < m.seq
         AND cm.last_read_seq < m.seq
         -- Muted conversations and blocked senders never push.
         AND (cm.muted_until IS NULL OR cm.muted_until <= now())
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
--> statement-breakpoint
-- The send functions of drizzle/0007 and 0008, refusing a message into a direct conversation
-- whose other member blocked the sender, the way they refuse a non-member (no row comes back):
-- the sender is not told they are blocked.
CREATE OR REPLACE FUNCTION parley_send_message(
  p_conversation_id uuid,
  p_sender_id uuid,
  p_body text,
  p_client_message_id text,
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
  member_version integer,
  change_seq integer
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
             v_phone, v_name, v_version, m.change_seq
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

  INSERT INTO outbox (conversation_id, payload)
  VALUES (p_conversation_id, json_build_object('kind', 'messageAdded', 'seq', v_seq)::text)
  RETURNING id INTO v_outbox;

  RETURN QUERY SELECT p_conversation_id, v_seq, p_sender_id, p_body, p_client_message_id,
                      v_at, NULL::timestamptz, NULL::timestamptz, v_count, false, v_outbox,
                      v_phone, v_name, v_version, NULL::integer;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION parley_send_messages(
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
