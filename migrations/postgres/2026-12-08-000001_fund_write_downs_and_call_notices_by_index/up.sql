-- A fund's write-downs up to a date (the capital at risk a distribution or a loss reads) were
-- found by reading every write-down of every fund; a call's notices, listed in id order a page at
-- a time, by walking every notice in id order. Each now has an index that finds just its rows.
CREATE INDEX write_downs_fund_date ON write_downs (fund_id, value_date);
CREATE INDEX notices_call_in_order ON notices (call_id, id);
