-- A new commitment or amendment reads its tranche's latest call under the writer lock: from
-- the lines of that tranche alone, however many calls the other tranches have.
CREATE INDEX capital_call_lines_tranche ON capital_call_lines (tranche_id, call_id);
