DROP TABLE checkpoints;
DROP TABLE merkle_tree;
DROP TABLE merkle_hashes;
