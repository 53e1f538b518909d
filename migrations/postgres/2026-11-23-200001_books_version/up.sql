-- One row every write transaction updates first: its row lock is the single writer lock
-- (PostgreSQL; SQLite's BEGIN IMMEDIATE is one already), and its version, bumped by every
-- write of every process, tells a node's cached views that the books changed.
CREATE TABLE books_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO books_version (id, version) VALUES (1, 0);
