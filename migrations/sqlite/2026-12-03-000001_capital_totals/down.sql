DROP TABLE capital_totals;
