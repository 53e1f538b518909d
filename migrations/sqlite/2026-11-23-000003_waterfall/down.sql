DROP TABLE loss_allocations;
DROP TABLE write_downs;
DROP TABLE distribution_lines;
DROP TABLE distributions;
DROP TABLE waterfall_terms;
