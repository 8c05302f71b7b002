-- Partitioned history (issue 19): every per-conversation table whose keys all lead with
-- conversation_id becomes HASH-partitioned by conversation_id, 16 partitions each (declarative
-- partitioning, PostgreSQL 11+; PGlite is PostgreSQL 17). A statement that names one conversation
-- (a history page, a send, a search in one conversation, a reaction, an edit) touches one
-- partition and its small indexes; VACUUM, index builds and bloat work partition by partition.
-- The same keys let Citus distribute these tables by conversation_id unchanged (DESIGN.md §4).
--
-- Partitioned: messages, message_mentions, message_reactions, message_edits (keyed by message),
-- outbox and webhook_events (each conversation's event log), push_deliveries (per message).
-- Not partitioned: conversations (one row each, found by id), conversation_members (read by
-- user as much as by conversation: the conversation list would probe all 16 partitions),
-- push_cursors (one row per conversation), webhook_cursors, invites, attachments (keyed by
-- endpoint, code or upload id, which a reader has before the conversation).
--
-- PostgreSQL cannot turn a table into a partitioned one in place, so each is rebuilt: new
-- partitioned tables, the rows copied, the old tables dropped, the new ones renamed, and then
-- the keys, indexes, foreign keys and the outbox trigger made again with their old names (the
-- names drizzle's snapshot knows). The identity sequences go on from where they were. The
-- functions (parley_send_message, parley_send_messages, parley_push_check,
-- parley_outbox_notify, parley_webhook_event) are PL/pgSQL, which finds tables by name when a
-- statement is first run in a session: they need no change. There are no views.
--
-- Drizzle runs all pending migrations in one transaction, and the old tables are locked against
-- writes first, so no row written by a running instance is left behind in a dropped table. The
-- copy takes about as long as drizzle/0015 (body_tsv is computed again): stop writers, or run
-- `npm run migrate` at a quiet time, on a large database.
LOCK TABLE "messages", "message_mentions", "message_reactions", "message_edits",
  "push_deliveries", "outbox", "webhook_events" IN EXCLUSIVE MODE;
--> statement-breakpoint
CREATE TABLE "messages_partitioned" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"sender_id" uuid NOT NULL,
	"body" text,
	"client_message_id" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"edited_at" timestamp (3) with time zone,
	"deleted_at" timestamp (3) with time zone,
	"attachment_count" smallint DEFAULT 0 NOT NULL,
	"change_seq" integer,
	"kind" text DEFAULT 'USER' NOT NULL,
	"system_event" jsonb,
	"reply_to_seq" integer,
	"reply_count" integer DEFAULT 0 NOT NULL,
	"mention_user_ids" uuid[],
	"body_tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "message_mentions_partitioned" (
	"user_id" uuid NOT NULL,
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "message_reactions_partitioned" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"emoji" text NOT NULL,
	"user_id" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "message_edits_partitioned" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"version" integer NOT NULL,
	"body" text NOT NULL,
	"replaced_at" timestamp (3) with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "push_deliveries_partitioned" (
	"conversation_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"endpoint" text NOT NULL,
	"user_id" uuid NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sending_at" timestamp (3) with time zone,
	"sent_at" timestamp (3) with time zone,
	"outcome" text,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "outbox_partitioned" (
	"conversation_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "outbox_partitioned_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"topic" text,
	"payload" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
CREATE TABLE "webhook_events_partitioned" (
	"conversation_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "webhook_events_partitioned_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"seq" integer,
	"user_id" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
) PARTITION BY HASH ("conversation_id");
--> statement-breakpoint
-- 16 partitions per table, named <table>_p00 … <table>_p15. Enough that each stays a sixteenth
-- of the table (at the design's ~100 M messages a day, a partition grows by ~6 M a day), few
-- enough that a statement across all conversations (the outbox drainer, the webhook sender)
-- merges 16 index scans and the embedded database's catalog stays small. A partition that grows
-- too big can be split later without touching the others: PostgreSQL allows partitions of
-- different moduli when each divides the next, so (MODULUS 16, REMAINDER r) can be detached and
-- its rows moved into (MODULUS 32, REMAINDER r) and (MODULUS 32, REMAINDER r + 16).
DO $$
DECLARE
  t text;
  i integer;
BEGIN
  FOREACH t IN ARRAY ARRAY['messages', 'message_mentions', 'message_reactions', 'message_edits',
                           'push_deliveries', 'outbox', 'webhook_events'] LOOP
    FOR i IN 0..15 LOOP
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
                     t || '_p' || lpad(i::text, 2, '0'), t || '_partitioned', i);
    END LOOP;
  END LOOP;
END;
$$;
--> statement-breakpoint
INSERT INTO "messages_partitioned" ("conversation_id", "seq", "sender_id", "body",
  "client_message_id", "created_at", "edited_at", "deleted_at", "attachment_count", "change_seq",
  "kind", "system_event", "reply_to_seq", "reply_count", "mention_user_ids")
SELECT "conversation_id", "seq", "sender_id", "body", "client_message_id", "created_at",
  "edited_at", "deleted_at", "attachment_count", "change_seq", "kind", "system_event",
  "reply_to_seq", "reply_count", "mention_user_ids"
  FROM "messages";
--> statement-breakpoint
INSERT INTO "message_mentions_partitioned" ("user_id", "conversation_id", "seq")
SELECT "user_id", "conversation_id", "seq" FROM "message_mentions";
--> statement-breakpoint
INSERT INTO "message_reactions_partitioned" ("conversation_id", "seq", "emoji", "user_id", "created_at")
SELECT "conversation_id", "seq", "emoji", "user_id", "created_at" FROM "message_reactions";
--> statement-breakpoint
INSERT INTO "message_edits_partitioned" ("conversation_id", "seq", "version", "body", "replaced_at")
SELECT "conversation_id", "seq", "version", "body", "replaced_at" FROM "message_edits";
--> statement-breakpoint
INSERT INTO "push_deliveries_partitioned" ("conversation_id", "seq", "endpoint", "user_id",
  "attempts", "sending_at", "sent_at", "outcome", "created_at")
SELECT "conversation_id", "seq", "endpoint", "user_id", "attempts", "sending_at", "sent_at",
  "outcome", "created_at"
  FROM "push_deliveries";
--> statement-breakpoint
INSERT INTO "outbox_partitioned" ("conversation_id", "id", "topic", "payload", "created_at")
OVERRIDING SYSTEM VALUE
SELECT "conversation_id", "id", "topic", "payload", "created_at" FROM "outbox";
--> statement-breakpoint
INSERT INTO "webhook_events_partitioned" ("conversation_id", "id", "type", "seq", "user_id", "created_at")
OVERRIDING SYSTEM VALUE
SELECT "conversation_id", "id", "type", "seq", "user_id", "created_at" FROM "webhook_events";
--> statement-breakpoint
-- Ids go on from where the old sequences were, not from the highest id left in the table:
-- webhook_cursors.last_id remembers ids of events already sent and deleted.
SELECT setval('outbox_partitioned_id_seq', last_value, is_called) FROM "outbox_id_seq";
--> statement-breakpoint
SELECT setval('webhook_events_partitioned_id_seq', last_value, is_called) FROM "webhook_events_id_seq";
--> statement-breakpoint
-- Dropping the old tables drops their keys, indexes, foreign keys, the outbox trigger and the
-- old identity sequences, which frees their names.
DROP TABLE "message_mentions", "message_reactions", "message_edits", "messages",
  "push_deliveries", "outbox", "webhook_events";
--> statement-breakpoint
ALTER TABLE "messages_partitioned" RENAME TO "messages";
--> statement-breakpoint
ALTER TABLE "message_mentions_partitioned" RENAME TO "message_mentions";
--> statement-breakpoint
ALTER TABLE "message_reactions_partitioned" RENAME TO "message_reactions";
--> statement-breakpoint
ALTER TABLE "message_edits_partitioned" RENAME TO "message_edits";
--> statement-breakpoint
ALTER TABLE "push_deliveries_partitioned" RENAME TO "push_deliveries";
--> statement-breakpoint
ALTER TABLE "outbox_partitioned" RENAME TO "outbox";
--> statement-breakpoint
ALTER TABLE "webhook_events_partitioned" RENAME TO "webhook_events";
--> statement-breakpoint
ALTER SEQUENCE "outbox_partitioned_id_seq" RENAME TO "outbox_id_seq";
--> statement-breakpoint
ALTER SEQUENCE "webhook_events_partitioned_id_seq" RENAME TO "webhook_events_id_seq";
--> statement-breakpoint
-- Keys: each includes the partition key (PostgreSQL requires it of a unique key on a
-- partitioned table; Citus of a distributed one) and leads with it.
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_seq_pk" PRIMARY KEY("conversation_id","seq");
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_client_message_id_key" UNIQUE("conversation_id","sender_id","client_message_id");
--> statement-breakpoint
-- (Unqualified: PostgreSQL 15 refuses "messages"."kind" in a CHECK added to a partitioned table.)
ALTER TABLE "messages" ADD CONSTRAINT "messages_kind_check" CHECK ("kind" in ('USER', 'SYSTEM'));
--> statement-breakpoint
ALTER TABLE "message_mentions" ADD CONSTRAINT "message_mentions_conversation_id_user_id_seq_pk" PRIMARY KEY("conversation_id","user_id","seq");
--> statement-breakpoint
ALTER TABLE "message_reactions" ADD CONSTRAINT "message_reactions_conversation_id_seq_emoji_user_id_pk" PRIMARY KEY("conversation_id","seq","emoji","user_id");
--> statement-breakpoint
ALTER TABLE "message_edits" ADD CONSTRAINT "message_edits_conversation_id_seq_version_pk" PRIMARY KEY("conversation_id","seq","version");
--> statement-breakpoint
ALTER TABLE "push_deliveries" ADD CONSTRAINT "push_deliveries_conversation_id_seq_endpoint_pk" PRIMARY KEY("conversation_id","seq","endpoint");
--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_conversation_id_id_pk" PRIMARY KEY("conversation_id","id");
--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_conversation_id_id_pk" PRIMARY KEY("conversation_id","id");
--> statement-breakpoint
-- Indexes, as drizzle/0007, 0009, 0012, 0013 and 0015 made them (each partition gets its own).
CREATE INDEX "messages_body_trgm_idx" ON "messages" USING gin ("body" gin_trgm_ops)
  WHERE "deleted_at" IS NULL AND "body" IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "messages_body_tsv_idx" ON "messages" USING gin ("body_tsv") WHERE "messages"."deleted_at" is null and "messages"."body" is not null;
--> statement-breakpoint
CREATE INDEX "messages_change_idx" ON "messages" USING btree ("conversation_id","change_seq") WHERE "messages"."change_seq" is not null;
--> statement-breakpoint
CREATE INDEX "messages_reply_idx" ON "messages" USING btree ("conversation_id","reply_to_seq","seq") WHERE "messages"."reply_to_seq" is not null;
--> statement-breakpoint
CREATE INDEX "outbox_created_at_idx" ON "outbox" USING btree ("created_at");
--> statement-breakpoint
CREATE INDEX "push_deliveries_created_at_idx" ON "push_deliveries" USING btree ("created_at");
--> statement-breakpoint
CREATE INDEX "webhook_events_created_at_idx" ON "webhook_events" USING btree ("created_at");
--> statement-breakpoint
-- Foreign keys. Between these tables they include conversation_id, so each partition refers to
-- its own counterpart (and under Citus, to a colocated shard); the ones to users and
-- conversations refer to tables that are not partitioned.
ALTER TABLE "messages" ADD CONSTRAINT "messages_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "messages" ADD CONSTRAINT "messages_sender_id_users_id_fk" FOREIGN KEY ("sender_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_mentions" ADD CONSTRAINT "message_mentions_message_fk" FOREIGN KEY ("conversation_id","seq") REFERENCES "public"."messages"("conversation_id","seq") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_mentions" ADD CONSTRAINT "message_mentions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_reactions" ADD CONSTRAINT "message_reactions_message_fk" FOREIGN KEY ("conversation_id","seq") REFERENCES "public"."messages"("conversation_id","seq") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_reactions" ADD CONSTRAINT "message_reactions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "message_edits" ADD CONSTRAINT "message_edits_message_fk" FOREIGN KEY ("conversation_id","seq") REFERENCES "public"."messages"("conversation_id","seq") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "push_deliveries" ADD CONSTRAINT "push_deliveries_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
-- The outbox's trigger (drizzle/0009; its function as drizzle/0011 left it): on a partitioned
-- table a row trigger is cloned onto every partition.
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH ROW EXECUTE FUNCTION parley_outbox_notify();
