-- Unmerge: every merge record carries what it changed in the survivor (`undo`), and an undone
-- merge is marked, not deleted; the unmerge itself is a history record of its own. Merges in
-- one transaction are told apart by `created_at` (clock time, not transaction time), which is
-- also the order in which they must be undone.
ALTER TABLE merges
    ADD COLUMN undo      jsonb,         -- NULL for merges recorded before unmerge existed
    ADD COLUMN undone_at timestamptz,   -- set when an unmerge undid this merge
    ADD COLUMN undoes    bigint;        -- on an `unmerge` record: the merge it undid
ALTER TABLE merges DROP CONSTRAINT merges_rule_check;
ALTER TABLE merges ADD CONSTRAINT merges_rule_check
    CHECK (rule IN ('external_id', 'email', 'phone_name', 'manual', 'unmerge'));
-- The merge that made a profile a tombstone, and the later merges of a survivor.
CREATE INDEX merges_merged ON merges (account_id, merged_id, created_at DESC);
CREATE INDEX merges_survivor ON merges (account_id, survivor_id, created_at DESC);

-- Pairs of profiles known to be two people (remembered by unmerge): the automatic rules never
-- merge them again, and a write that would give one an email or external id of the other is
-- refused. Ids as recorded; they are resolved through tombstones when checked.
CREATE TABLE distinct_profiles (
    account_id bigint      NOT NULL REFERENCES accounts (id),
    low_id     bigint      NOT NULL,
    high_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    request_id text,
    PRIMARY KEY (account_id, low_id, high_id),
    CHECK (low_id < high_id),
    -- Erasing either profile forgets the pair.
    FOREIGN KEY (account_id, low_id) REFERENCES profiles (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, high_id) REFERENCES profiles (account_id, id) ON DELETE CASCADE
);
CREATE INDEX distinct_profiles_high ON distinct_profiles (account_id, high_id);
