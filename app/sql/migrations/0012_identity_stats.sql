-- The identity report: merges over time, and the placeholder values stored (never matched).
CREATE INDEX merges_created ON merges (account_id, created_at);
CREATE INDEX profile_identifiers_placeholders ON profile_identifiers (account_id, kind)
    WHERE value_norm IS NULL;
