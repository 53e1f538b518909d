-- The shape a redesign would have: business rows first (one row lock of their own), 4 statements under the lock.
\set tid random(1, 100000)
BEGIN;
SET LOCAL synchronous_commit = off;
SELECT count(*) FROM t WHERE id = 5;
SELECT x FROM tr WHERE id = :tid FOR UPDATE;
SELECT count(*) FROM t WHERE id = 6;
INSERT INTO t(a,b) VALUES ('x', 1);
INSERT INTO t(a,b) VALUES ('y', 2);
INSERT INTO t(a,b) VALUES ('q', 5);
UPDATE v SET version = version + 1 WHERE id = 1 RETURNING version;
SELECT count(*) FROM t WHERE id = 6;
WITH a AS (INSERT INTO t(a,b) VALUES ('z', 3)), b AS (INSERT INTO t(a,b) VALUES ('w', 4)) UPDATE v SET version = version WHERE id = 1;
COMMIT;
BEGIN;
SELECT txid_current();
COMMIT;
