-- A commitment's shape today: the lock first, 11 statements under it, then the durability barrier.
BEGIN;
SET LOCAL synchronous_commit = off;
UPDATE v SET version = version + 1 WHERE id = 1;
SELECT version FROM v WHERE id = 1;
SELECT count(*) FROM t WHERE id = 5;
INSERT INTO t(a,b) VALUES ('x', 1);
INSERT INTO t(a,b) VALUES ('y', 2);
SELECT version FROM v WHERE id = 1;
INSERT INTO t(a,b) VALUES ('z', 3);
INSERT INTO t(a,b) VALUES ('w', 4);
UPDATE v SET version = version WHERE id = 1;
INSERT INTO t(a,b) VALUES ('q', 5);
COMMIT;
BEGIN;
SELECT txid_current();
COMMIT;
