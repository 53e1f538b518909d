DROP TABLE usage_imports;
DROP TABLE slurm_accounts;
