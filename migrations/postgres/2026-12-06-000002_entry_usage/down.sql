DROP TABLE entry_usage;
