DROP TABLE checkpoints;
DROP TABLE merkle_tree;
DROP FUNCTION merkle_tree_grows();
DROP TABLE merkle_hashes;
