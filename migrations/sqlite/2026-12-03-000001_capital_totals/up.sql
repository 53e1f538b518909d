-- The capital stack's running totals per fund, tranche, source kind and programme: what the
-- fund overview reads (at most tranches times programmes rows) instead of every commitment and
-- notice. Kept by the writes that change a commitment's amount, call from it or record a
-- contribution, in their transaction; derived from those rows, which stay the record
-- (docs/scaling.md, "Costs that stay flat").
CREATE TABLE capital_totals (
    fund_id TEXT NOT NULL REFERENCES funds(id),
    tranche_id TEXT NOT NULL REFERENCES tranches(id),
    source_kind TEXT NOT NULL,
    programme TEXT NOT NULL,
    committed_cents BIGINT NOT NULL,
    called_cents BIGINT NOT NULL,
    paid_cents BIGINT NOT NULL,
    PRIMARY KEY (fund_id, tranche_id, source_kind, programme)
);

INSERT INTO capital_totals (fund_id, tranche_id, source_kind, programme, committed_cents, called_cents, paid_cents)
SELECT c.fund_id, c.tranche_id, s.kind, s.programme,
       SUM(c.committed_cents), SUM(c.called_cents), SUM(COALESCE(p.paid_cents, 0))
FROM commitments c
JOIN sources s ON s.id = c.source_id
LEFT JOIN (SELECT commitment_id, SUM(paid_cents) AS paid_cents FROM notices GROUP BY commitment_id) p
    ON p.commitment_id = c.id
GROUP BY c.fund_id, c.tranche_id, s.kind, s.programme;
