DROP TABLE award_quarter_usage;
