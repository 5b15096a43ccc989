-- Event and merge ids came from service-wide sequences: the gap between two of its own ids told
-- a tenant how many events or merges every other tenant had written meanwhile. They are drawn
-- at random now, from 1 to 2^52 (exact in a JavaScript number); a collision is a unique
-- violation, which the write retries. Lists are ordered by creation time, then id.
CREATE FUNCTION random_public_id() RETURNS bigint LANGUAGE sql VOLATILE PARALLEL SAFE AS
$$ SELECT ('x' || substr(md5(gen_random_uuid()::text), 1, 13))::bit(52)::bigint + 1 $$;

ALTER TABLE events ALTER COLUMN id DROP IDENTITY;
ALTER TABLE events ALTER COLUMN id SET DEFAULT random_public_id();
ALTER TABLE merges ALTER COLUMN id DROP IDENTITY;
ALTER TABLE merges ALTER COLUMN id SET DEFAULT random_public_id();

DROP INDEX events_profile;
CREATE INDEX events_profile ON events (account_id, profile_id, created_at DESC, id DESC);
DROP INDEX merges_person;
CREATE INDEX merges_person ON merges (account_id, person_id, created_at DESC, id DESC);
