-- A new source is refused when its legal name or LEI is taken; these indexes make that check a
-- lookup instead of a scan of every source.
CREATE INDEX sources_legal_name ON sources (legal_name);
CREATE INDEX sources_lei ON sources (lei);
