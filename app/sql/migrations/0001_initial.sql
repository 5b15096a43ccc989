-- Accounts, API keys and person profiles.
-- One person is one row of `profiles`, whichever API wrote it: the customers API shows its
-- integer `id`, the partner API its UUID `contact_id`. Identifiers (emails, external ids, and
-- later phones) live in `profile_identifiers`, so that a profile can hold several of each and
-- every match is one indexed lookup scoped by account.

CREATE TABLE accounts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    name        text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prefix      text        NOT NULL UNIQUE,
    key_hash    bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- Service-wide and never reused, even after erasure: the customers API's integer ids.
CREATE SEQUENCE profiles_id_seq AS bigint;

CREATE TABLE profiles (
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    id              bigint      NOT NULL DEFAULT nextval('profiles_id_seq'),
    contact_id      uuid        NOT NULL DEFAULT gen_random_uuid(),
    name            text,
    professional_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    CONSTRAINT profiles_contact_id_key UNIQUE (account_id, contact_id)
);
ALTER SEQUENCE profiles_id_seq OWNED BY profiles.id;

CREATE TABLE profile_identifiers (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint      NOT NULL,
    profile_id  bigint      NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('email', 'external_id', 'phone')),
    value       text        NOT NULL,  -- as given
    value_norm  text,                  -- normalized for matching; NULL never matches
    is_primary  boolean     NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (account_id, profile_id) REFERENCES profiles (account_id, id) ON DELETE CASCADE
);
-- The backstop behind the identifier locks: an email or external id names one profile per account.
CREATE UNIQUE INDEX profile_identifiers_unique_norm
    ON profile_identifiers (account_id, kind, value_norm)
    WHERE value_norm IS NOT NULL AND kind IN ('email', 'external_id');
-- Phones may be shared (households), so they are indexed, not unique.
CREATE INDEX profile_identifiers_phone
    ON profile_identifiers (account_id, value_norm)
    WHERE value_norm IS NOT NULL AND kind = 'phone';
CREATE UNIQUE INDEX profile_identifiers_one_primary
    ON profile_identifiers (account_id, profile_id, kind)
    WHERE is_primary;
CREATE INDEX profile_identifiers_profile ON profile_identifiers (account_id, profile_id);
