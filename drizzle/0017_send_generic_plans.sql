-- The send functions' statements are planned once per connection, not on every send. PL/pgSQL
-- caches each statement's plan, but with parameters PostgreSQL may keep making a custom plan per
-- call (plan_cache_mode = auto), and since drizzle/0016 that planning prunes 16 partitions of
-- each table a send touches. A generic plan prunes them when it runs. PostgreSQL CPU per
-- one-message batch, 16 connections over 64 conversations (PostgreSQL 15, 3 rounds):
-- 1,078-1,114 µs with the default, 714-922 µs with this.
ALTER FUNCTION parley_send_message(uuid, uuid, text, text, uuid[], integer, uuid[])
  SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION parley_send_messages(uuid, uuid[], text[], text[])
  SET plan_cache_mode = force_generic_plan;
