-- Identity resolution: merged-away profiles stay as tombstones pointing at the survivor, and
-- every merge is recorded with a full snapshot of the merged profile (for unmerge and audit).

ALTER TABLE profiles
    ADD COLUMN merged_into bigint,   -- NULL: live; else the live survivor (chains kept flat)
    ADD COLUMN merged_at   timestamptz;
CREATE INDEX profiles_merged_into ON profiles (account_id, merged_into)
    WHERE merged_into IS NOT NULL;

CREATE TABLE merges (
    account_id       bigint      NOT NULL REFERENCES accounts (id),
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    person_id        bigint      NOT NULL,  -- the live profile this history belongs to now
    survivor_id      bigint      NOT NULL,  -- the profile that absorbed the merged one
    merged_id        bigint      NOT NULL,
    rule             text        NOT NULL
                     CHECK (rule IN ('external_id', 'email', 'phone_name', 'manual')),
    score            double precision,
    identifier_kind  text,
    identifier_value text,
    request_id       text,
    snapshot         jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);
CREATE INDEX merges_person ON merges (account_id, person_id, id DESC);
