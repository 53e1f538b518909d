-- Tables for the writer-lock simulations (BENCHMARKS.md, "Load"): one version row that every
-- transaction locks, one table the statements write, one table of rows to lock.
CREATE TABLE v (id int PRIMARY KEY, version bigint);
INSERT INTO v VALUES (1, 0);
CREATE TABLE t (id serial PRIMARY KEY, a text, b bigint);
CREATE TABLE tr (id int PRIMARY KEY, x int);
INSERT INTO tr SELECT g, 0 FROM generate_series(1, 100000) g;
