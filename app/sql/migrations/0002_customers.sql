-- The customers API (HelpCrunch v1) view of profiles: customer fields, tags, custom
-- attributes and events. Every table is keyed by account first, so it can be sharded by account.

ALTER TABLE profiles
    ADD COLUMN company        text,
    ADD COLUMN first_seen     timestamptz,
    ADD COLUMN last_seen      timestamptz,
    ADD COLUMN region_code    text,
    ADD COLUMN country_code   text,
    ADD COLUMN city           text,
    ADD COLUMN unsubscribed   boolean NOT NULL DEFAULT false,
    ADD COLUMN blocked        boolean NOT NULL DEFAULT false,
    ADD COLUMN source         text,
    ADD COLUMN referer        text,
    ADD COLUMN last_page      text,
    ADD COLUMN locale         text,
    ADD COLUMN created_from   text,
    ADD COLUMN integration_id text,
    ADD COLUMN notes          text,
    ADD COLUMN custom_data    jsonb NOT NULL DEFAULT '{}'::jsonb;

-- List sorting (`sort=customers.firstSeen|lastSeen`, nulls last, id as tie-breaker), both ways.
CREATE INDEX profiles_first_seen_asc ON profiles (account_id, first_seen ASC NULLS LAST, id ASC);
CREATE INDEX profiles_first_seen_desc ON profiles (account_id, first_seen DESC NULLS LAST, id DESC);
CREATE INDEX profiles_last_seen_asc ON profiles (account_id, last_seen ASC NULLS LAST, id ASC);
CREATE INDEX profiles_last_seen_desc ON profiles (account_id, last_seen DESC NULLS LAST, id DESC);

CREATE TABLE tags (
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    name        text        NOT NULL,   -- spelling of the first creation
    name_norm   text        NOT NULL,   -- lower-cased: names match case-insensitively
    color       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    CONSTRAINT tags_name_key UNIQUE (account_id, name_norm)
);

CREATE TABLE profile_tags (
    account_id  bigint NOT NULL,
    profile_id  bigint NOT NULL,
    tag_id      bigint NOT NULL,
    PRIMARY KEY (account_id, profile_id, tag_id),
    FOREIGN KEY (account_id, profile_id) REFERENCES profiles (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, tag_id) REFERENCES tags (account_id, id) ON DELETE CASCADE
);
CREATE INDEX profile_tags_tag ON profile_tags (account_id, tag_id, profile_id);

CREATE TABLE custom_attributes (
    account_id  bigint      NOT NULL REFERENCES accounts (id),
    name        text        NOT NULL,
    type        text        NOT NULL
                CHECK (type IN ('string', 'text', 'number', 'boolean', 'date', 'url')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

CREATE TABLE events (
    account_id  bigint      NOT NULL,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    profile_id  bigint      NOT NULL,
    name        text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    FOREIGN KEY (account_id, profile_id) REFERENCES profiles (account_id, id) ON DELETE CASCADE
);
CREATE INDEX events_profile ON events (account_id, profile_id, id DESC);
