CREATE TABLE "invites" (
	"code" text PRIMARY KEY NOT NULL,
	"conversation_id" uuid NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone,
	"uses_left" integer,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "invites_uses_left_check" CHECK ("invites"."uses_left" is null or "invites"."uses_left" >= 0)
);
--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "last_read_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD COLUMN "role" text DEFAULT 'MEMBER' NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "avatar_attachment_id" uuid;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "visibility" text DEFAULT 'PRIVATE' NOT NULL;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "member_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "kind" text DEFAULT 'USER' NOT NULL;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "system_event" jsonb;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invites_conversation_idx" ON "invites" USING btree ("conversation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "conversation_members_owner_idx" ON "conversation_members" USING btree ("conversation_id") WHERE "conversation_members"."role" = 'OWNER';--> statement-breakpoint
CREATE INDEX "conversations_public_idx" ON "conversations" USING btree ("member_count" DESC NULLS LAST,"id") WHERE "conversations"."visibility" = 'PUBLIC';--> statement-breakpoint
ALTER TABLE "conversation_members" ADD CONSTRAINT "conversation_members_role_check" CHECK ("conversation_members"."role" in ('OWNER', 'ADMIN', 'MEMBER'));--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_visibility_check" CHECK ("conversations"."visibility" = 'PRIVATE' or ("conversations"."visibility" = 'PUBLIC' and "conversations"."kind" = 'GROUP'));--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_kind_check" CHECK ("messages"."kind" in ('USER', 'SYSTEM'));--> statement-breakpoint
-- Groups made before roles: the member who joined first (the creator) owns each group.
UPDATE conversation_members m SET role = 'OWNER'
  FROM (SELECT DISTINCT ON (cm.conversation_id) cm.conversation_id, cm.user_id
          FROM conversation_members cm
          JOIN conversations c ON c.id = cm.conversation_id AND c.kind = 'GROUP'
         ORDER BY cm.conversation_id, cm.joined_at, cm.user_id) first
 WHERE m.conversation_id = first.conversation_id AND m.user_id = first.user_id;
--> statement-breakpoint
UPDATE conversations c SET member_count = (SELECT count(*) FROM conversation_members m WHERE m.conversation_id = c.id);
--> statement-breakpoint
-- conversations.member_count follows conversation_members, one update per statement and
-- conversation (adding 2,000 members is one update, not 2,000), under the row lock the
-- membership change holds already.
CREATE FUNCTION parley_count_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE conversations c SET member_count = c.member_count + n.n
      FROM (SELECT conversation_id, count(*) AS n FROM new_rows GROUP BY conversation_id) n
     WHERE c.id = n.conversation_id;
  ELSE
    UPDATE conversations c SET member_count = c.member_count - n.n
      FROM (SELECT conversation_id, count(*) AS n FROM old_rows GROUP BY conversation_id) n
     WHERE c.id = n.conversation_id;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER conversation_members_count_insert AFTER INSERT ON conversation_members
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION parley_count_members();
--> statement-breakpoint
CREATE TRIGGER conversation_members_count_delete AFTER DELETE ON conversation_members
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION parley_count_members();
--> statement-breakpoint
-- The outbox trigger of drizzle/0009, but a system message (its record says "system") is no
-- message.created webhook and schedules no push check: member.joined/left tell integrations.
CREATE OR REPLACE FUNCTION parley_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s notification_settings%ROWTYPE;
  v_record jsonb;
  v_seq integer;
  v_user uuid;
  v_type text;
  v_schedule boolean;
BEGIN
  SELECT * INTO s FROM notification_settings WHERE id = 1;
  IF NOT FOUND
     OR (cardinality(s.webhook_endpoints) = 0
         AND NOT (s.push_enabled AND EXISTS (SELECT 1 FROM push_subscriptions))) THEN
    RETURN NULL;
  END IF;
  v_record := NEW.payload::jsonb;
  CASE v_record->>'kind'
    WHEN 'messageAdded' THEN
      IF v_record ? 'system' THEN
        RETURN NULL;
      END IF;
      v_seq := (v_record->>'seq')::integer;
      v_type := 'message.created';
      -- The conversation's push check, due PUSH_DELAY_MS after this message unless one is
      -- pending already (it is due sooner and schedules the next itself): one job per window
      -- of messages, not per message. A pending check a minute overdue is taken as lost.
      UPDATE push_cursors pc
         SET check_at = now() + s.push_delay_ms * interval '1 millisecond'
       WHERE pc.conversation_id = NEW.conversation_id
         AND (pc.check_at IS NULL OR pc.check_at < now() - interval '1 minute');
      v_schedule := FOUND;
      IF NOT v_schedule THEN
        INSERT INTO push_cursors (conversation_id, last_seq, check_at)
        VALUES (NEW.conversation_id, v_seq - 1, now() + s.push_delay_ms * interval '1 millisecond')
        ON CONFLICT DO NOTHING;
        v_schedule := FOUND;
      END IF;
      IF v_schedule THEN
        PERFORM graphile_worker.add_job(
          'parley_push_check',
          json_build_object('c', NEW.conversation_id),
          run_at := now() + s.push_delay_ms * interval '1 millisecond',
          job_key := 'push-check:' || NEW.conversation_id,
          job_key_mode := 'preserve_run_at');
      END IF;
    WHEN 'messageUpdated' THEN
      v_seq := (v_record->>'seq')::integer;
      v_type := CASE
        WHEN EXISTS (SELECT 1 FROM messages m
                      WHERE m.conversation_id = NEW.conversation_id AND m.seq = v_seq
                        AND m.deleted_at IS NOT NULL)
        THEN 'message.deleted' ELSE 'message.edited' END;
    WHEN 'joined' THEN
      v_user := (v_record->>'userId')::uuid;
      v_type := 'member.joined';
    WHEN 'left' THEN
      v_user := (v_record->>'userId')::uuid;
      v_type := 'member.left';
    ELSE
      RETURN NULL;
  END CASE;
  IF cardinality(s.webhook_endpoints) > 0 THEN
    PERFORM parley_webhook_event(NEW.conversation_id, v_type, v_seq, v_user, s.webhook_endpoints);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- The push check of drizzle/0010, leaving out system messages (nobody is pushed "Ann added Bob").
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
