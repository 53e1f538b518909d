-- The journal as a Merkle tree, and its signed checkpoints (docs/ledger.md, "Merkle tree and
-- checkpoints"). The hashes of the tree's complete subtrees, by stored index, are appended in
-- the transaction of the entries they cover and never change; `merkle_tree` says how many
-- entries the tree holds (a database migrated with entries catches up when a node starts).
CREATE TABLE merkle_hashes (
    stored_index BIGINT PRIMARY KEY NOT NULL CHECK (stored_index >= 0),
    hash BLOB NOT NULL CHECK (length(hash) = 32)
) WITHOUT ROWID;

CREATE TABLE merkle_tree (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    size BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO merkle_tree (id, size) VALUES (1, 0);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE checkpoints (
    tree_size BIGINT PRIMARY KEY NOT NULL CHECK (tree_size >= 1),
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL
);

CREATE TRIGGER merkle_hashes_no_update BEFORE UPDATE ON merkle_hashes
BEGIN SELECT RAISE(ABORT, 'merkle_hashes is append-only'); END;
CREATE TRIGGER merkle_hashes_no_delete BEFORE DELETE ON merkle_hashes
BEGIN SELECT RAISE(ABORT, 'merkle_hashes is append-only'); END;
CREATE TRIGGER merkle_tree_only_grows BEFORE UPDATE ON merkle_tree
BEGIN SELECT RAISE(ABORT, 'the Merkle tree only grows') WHERE NEW.size < OLD.size; END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only'); END;
