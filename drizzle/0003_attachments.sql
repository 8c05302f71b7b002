CREATE TABLE "attachments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"uploader_id" uuid NOT NULL,
	"mime_type" text NOT NULL,
	"size" integer NOT NULL,
	"width" integer,
	"height" integer,
	"filename" text NOT NULL,
	"thumbnail_size" integer,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"conversation_id" uuid,
	"message_seq" integer,
	"position" smallint,
	CONSTRAINT "attachments_attached_check" CHECK (("attachments"."conversation_id" is null) = ("attachments"."message_seq" is null) and ("attachments"."conversation_id" is null) = ("attachments"."position" is null))
);
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "attachment_count" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "attachments" ADD CONSTRAINT "attachments_uploader_id_users_id_fk" FOREIGN KEY ("uploader_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "attachments_message_idx" ON "attachments" USING btree ("conversation_id","message_seq","position") WHERE "attachments"."conversation_id" is not null;--> statement-breakpoint
CREATE INDEX "attachments_unattached_idx" ON "attachments" USING btree ("created_at") WHERE "attachments"."conversation_id" is null;