-- The journal as a Merkle tree, and its signed checkpoints (docs/ledger.md, "Merkle tree and
-- checkpoints"). The hashes of the tree's complete subtrees, by stored index, are appended in
-- the transaction of the entries they cover and never change; `merkle_tree` says how many
-- entries the tree holds (a database migrated with entries catches up when a node starts).
CREATE TABLE merkle_hashes (
    stored_index BIGINT PRIMARY KEY CHECK (stored_index >= 0),
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE merkle_tree (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO merkle_tree (id, size) VALUES (1, 0);

-- Signed checkpoints (C2SP signed notes), one per tree size.
CREATE TABLE checkpoints (
    tree_size BIGINT PRIMARY KEY CHECK (tree_size >= 1),
    root_hash TEXT NOT NULL,
    note TEXT NOT NULL,
    issued_at TIMESTAMP NOT NULL
);

CREATE TRIGGER merkle_hashes_append_only BEFORE UPDATE OR DELETE ON merkle_hashes
FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE FUNCTION merkle_tree_grows() RETURNS trigger AS $$
BEGIN
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'the Merkle tree only grows' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER merkle_tree_only_grows BEFORE UPDATE ON merkle_tree
FOR EACH ROW EXECUTE FUNCTION merkle_tree_grows();
