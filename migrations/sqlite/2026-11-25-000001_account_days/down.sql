DROP TABLE account_days;
