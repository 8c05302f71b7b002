CREATE TABLE "discarded_blobs" (
	"key" text PRIMARY KEY NOT NULL,
	"discarded_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
