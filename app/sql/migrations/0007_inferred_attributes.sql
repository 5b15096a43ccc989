-- Custom attributes used without a definition are defined on first use (by their suffix, or
-- by the JSON type of their first value); `defined` tells those from explicit definitions.
-- Existing rows cannot be told apart and count as explicit.
ALTER TABLE custom_attributes
    ADD COLUMN defined text NOT NULL DEFAULT 'explicit'
    CHECK (defined IN ('explicit', 'inferred'));
