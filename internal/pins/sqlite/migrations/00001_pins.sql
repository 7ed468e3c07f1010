-- Pins and their append-only history. The PostgreSQL store creates the same tables.

-- +goose Up
CREATE TABLE pins (
    name                TEXT    NOT NULL PRIMARY KEY,
    repository          TEXT    NOT NULL DEFAULT '',
    digest              TEXT    NOT NULL,
    source_sha          TEXT    NOT NULL DEFAULT '',
    verification        TEXT    NOT NULL DEFAULT '',
    verification_reason TEXT    NOT NULL DEFAULT '',
    updated_at          TEXT    NOT NULL, -- UTC, 2006-01-02T15:04:05.000000Z: sorts as it reads
    updated_by          TEXT    NOT NULL DEFAULT '',
    version             INTEGER NOT NULL CHECK (version > 0)
);

CREATE TABLE pin_history (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL,
    op                  TEXT    NOT NULL CHECK (op IN ('set', 'delete')),
    repository          TEXT    NOT NULL DEFAULT '',
    digest              TEXT    NOT NULL,
    source_sha          TEXT    NOT NULL DEFAULT '',
    verification        TEXT    NOT NULL DEFAULT '',
    verification_reason TEXT    NOT NULL DEFAULT '',
    updated_by          TEXT    NOT NULL DEFAULT '',
    version             INTEGER NOT NULL CHECK (version > 0),
    at                  TEXT    NOT NULL,
    -- One entry per change: two writers that both computed the same next version cannot
    -- both record it.
    UNIQUE (name, version)
);

-- +goose StatementBegin
CREATE TRIGGER pin_history_no_update BEFORE UPDATE ON pin_history
BEGIN
    SELECT RAISE(ABORT, 'pin_history is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER pin_history_no_delete BEFORE DELETE ON pin_history
BEGIN
    SELECT RAISE(ABORT, 'pin_history is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER pin_history_no_delete;
DROP TRIGGER pin_history_no_update;
DROP TABLE pin_history;
DROP TABLE pins;
