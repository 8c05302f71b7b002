-- searchMessages at scale (src/db/search.ts). The body's words are stored beside it, so ranking
-- and rechecking a match read them instead of running to_tsvector on every candidate again, and
-- their GIN index replaces the expression index of drizzle/0012. Adding the column rewrites the
-- table (about 2 minutes per million messages on a small machine) and adds ~120 bytes a message.
DROP INDEX IF EXISTS "messages_body_fts_idx";
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "body_tsv" "tsvector" GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;--> statement-breakpoint
CREATE INDEX "messages_body_tsv_idx" ON "messages" USING gin ("body_tsv") WHERE "messages"."deleted_at" is null and "messages"."body" is not null;