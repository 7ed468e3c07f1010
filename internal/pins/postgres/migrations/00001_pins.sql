-- Pins and their append-only history. The SQLite store creates the same tables. Names
-- collate as "C" so that List orders by bytes, as SQLite does.

-- +goose Up
CREATE TABLE pins (
    name                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    repository          TEXT        NOT NULL DEFAULT '',
    digest              TEXT        NOT NULL,
    source_sha          TEXT        NOT NULL DEFAULT '',
    verification        TEXT        NOT NULL DEFAULT '',
    verification_reason TEXT        NOT NULL DEFAULT '',
    updated_at          TIMESTAMPTZ NOT NULL,
    updated_by          TEXT        NOT NULL DEFAULT '',
    version             BIGINT      NOT NULL CHECK (version > 0)
);

CREATE TABLE pin_history (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                TEXT COLLATE "C" NOT NULL,
    op                  TEXT        NOT NULL CHECK (op IN ('set', 'delete')),
    repository          TEXT        NOT NULL DEFAULT '',
    digest              TEXT        NOT NULL,
    source_sha          TEXT        NOT NULL DEFAULT '',
    verification        TEXT        NOT NULL DEFAULT '',
    verification_reason TEXT        NOT NULL DEFAULT '',
    updated_by          TEXT        NOT NULL DEFAULT '',
    version             BIGINT      NOT NULL CHECK (version > 0),
    at                  TIMESTAMPTZ NOT NULL,
    -- One entry per change: two writers that both computed the same next version cannot
    -- both record it.
    UNIQUE (name, version)
);

-- +goose StatementBegin
CREATE FUNCTION pin_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'pin_history is append-only';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER pin_history_no_change BEFORE UPDATE OR DELETE ON pin_history
    FOR EACH ROW EXECUTE FUNCTION pin_history_append_only();
CREATE TRIGGER pin_history_no_truncate BEFORE TRUNCATE ON pin_history
    FOR EACH STATEMENT EXECUTE FUNCTION pin_history_append_only();

-- +goose Down
DROP TABLE pin_history;
DROP FUNCTION pin_history_append_only();
DROP TABLE pins;
