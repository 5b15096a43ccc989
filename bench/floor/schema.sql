-- The floor's one table, written the fast way: one row per contact, unique indexes on the two
-- identifiers an upsert matches on, tags and custom data inline. It lives in the bench
-- database beside the service's tables and is seeded with the same people and ids.
CREATE SEQUENCE contacts_id_seq AS bigint;

CREATE TABLE contacts (
    account_id   bigint      NOT NULL,
    id           bigint      NOT NULL DEFAULT nextval('contacts_id_seq'),
    contact_id   uuid        NOT NULL DEFAULT gen_random_uuid(),
    email_norm   text,
    external_id  text,
    phone        text,
    name         text,
    company      text,
    city         text,
    country_code text,
    notes        text,
    tags         jsonb       NOT NULL DEFAULT '[]'::jsonb,
    custom_data  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id)
);
ALTER SEQUENCE contacts_id_seq OWNED BY contacts.id;
CREATE UNIQUE INDEX contacts_email ON contacts (account_id, email_norm);
CREATE UNIQUE INDEX contacts_external_id ON contacts (account_id, external_id);

-- Not the floor's: the parameters pgbench draws from (a random sample of the large account's
-- people, numbered 1..n in random order), so that pgbench runs the floor's statements with the
-- same kind of values the HTTP runs send.
CREATE TABLE bench_sample (
    n           integer PRIMARY KEY,
    profile_id  bigint  NOT NULL,
    email       text    NOT NULL,
    email_norm  text    NOT NULL,
    external_id text,
    name        text
);
