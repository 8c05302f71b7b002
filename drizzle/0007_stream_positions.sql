CREATE TABLE "stream_bases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"positions" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "topic" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "joined_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "joined_change_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "last_change_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "change_seq" integer;--> statement-breakpoint
CREATE INDEX "stream_bases_created_at_idx" ON "stream_bases" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "messages_change_idx" ON "messages" USING btree ("conversation_id","change_seq") WHERE "messages"."change_seq" is not null;
--> statement-breakpoint
-- The outbox keeps what rebuilds an event, not the event: for a new message its seq (the row,
-- its sender and the member version are read back when a drainer publishes it). The event's
-- wire format is written in one place (domain/events.ts), and the topic is no longer passed in.
-- Rows written before keep their topic and whole event and are published as they are.
DROP FUNCTION parley_send_message(uuid, uuid, text, text, text, uuid[]);
--> statement-breakpoint
CREATE FUNCTION parley_send_message(
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
