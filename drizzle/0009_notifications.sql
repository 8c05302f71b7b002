CREATE TABLE "job_workers" (
	"worker_id" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "notification_settings" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"push_delay_ms" integer DEFAULT 3000 NOT NULL,
	"push_enabled" boolean DEFAULT false NOT NULL,
	"webhook_endpoints" text[] DEFAULT '{}' NOT NULL,
	"push_preview" boolean DEFAULT true NOT NULL,
	CONSTRAINT "notification_settings_one_row" CHECK ("notification_settings"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "push_cursors" (
	"conversation_id" uuid PRIMARY KEY NOT NULL,
	"last_seq" integer NOT NULL,
	"check_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "push_deliveries" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"endpoint" text NOT NULL,
	"user_id" uuid NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sending_at" timestamp (3) with time zone,
	"sent_at" timestamp (3) with time zone,
	"outcome" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_deliveries_conversation_id_seq_endpoint_pk" PRIMARY KEY("conversation_id","seq","endpoint")
);
--> statement-breakpoint
CREATE TABLE "push_subscriptions" (
	"endpoint" text PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"p256dh" text NOT NULL,
	"auth" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_cursors" (
	"endpoint" text NOT NULL,
	"conversation_id" uuid NOT NULL,
	"last_id" bigint DEFAULT 0 NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"failing_since" timestamp (3) with time zone,
	CONSTRAINT "webhook_cursors_endpoint_conversation_id_pk" PRIMARY KEY("endpoint","conversation_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"conversation_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "webhook_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"seq" integer,
	"user_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_events_conversation_id_id_pk" PRIMARY KEY("conversation_id","id")
);
--> statement-breakpoint
ALTER TABLE "push_cursors" ADD CONSTRAINT "push_cursors_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "push_deliveries" ADD CONSTRAINT "push_deliveries_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "push_subscriptions" ADD CONSTRAINT "push_subscriptions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "push_deliveries_created_at_idx" ON "push_deliveries" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "push_subscriptions_user_idx" ON "push_subscriptions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "webhook_events_created_at_idx" ON "webhook_events" USING btree ("created_at");--> statement-breakpoint
INSERT INTO "notification_settings" ("id") VALUES (1);
--> statement-breakpoint
-- Notification work is enqueued in the transaction that writes the event: a trigger on the
-- outbox (every event that matters writes an outbox row) schedules the conversation's push check
-- and records webhook events, with graphile-worker's SQL API (graphile_worker.add_job). The
-- settings row is written by the instances at start; while it says nothing is configured, the
-- trigger returns at once (and graphile_worker, installed by the first instance that runs the
-- queue, is never called).
CREATE FUNCTION parley_webhook_event(
  p_conversation_id uuid,
  p_type text,
  p_seq integer,
  p_user_id uuid,
  p_endpoints text[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_endpoint text;
BEGIN
  INSERT INTO webhook_events (conversation_id, type, seq, user_id)
  VALUES (p_conversation_id, p_type, p_seq, p_user_id);
  FOREACH v_endpoint IN ARRAY p_endpoints LOOP
    -- One pending job per (endpoint, conversation); jobs of a conversation share a queue, so
    -- they run one at a time and post in order. A pending retry keeps its later time.
    PERFORM graphile_worker.add_job(
      'parley_webhook',
      json_build_object('c', p_conversation_id, 'e', v_endpoint),
      queue_name := 'parley_webhook_' || (hashtext(p_conversation_id::text) & 31),
      job_key := 'webhook:' || md5(v_endpoint) || ':' || p_conversation_id,
      job_key_mode := 'preserve_run_at');
  END LOOP;
END;
$$;
--> statement-breakpoint
CREATE FUNCTION parley_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH ROW EXECUTE FUNCTION parley_outbox_notify();
--> statement-breakpoint
-- The push check of one conversation, run by its job once its oldest unchecked message is due
-- (PUSH_DELAY_MS after it was sent). For each due message, every other member who had joined
-- before it, to none of whose connections it was delivered and who has not read it, is a
-- recipient it missed: each of their push subscriptions gets a claim (the primary key makes it
-- at most one push per message and device), sent by one batch job; with webhooks, each missed
-- recipient is a message.undelivered event (the bridge to FCM/APNs). The cursor moves past the
-- due messages in the same transaction, and the next check is scheduled for the next message.
CREATE FUNCTION parley_push_check(p_conversation_id uuid) RETURNS integer LANGUAGE plpgsql AS $$
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
