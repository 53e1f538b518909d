DROP TRIGGER notices_not_deleted ON notices;
DROP TRIGGER notices_paid_only_grows ON notices;
DROP TRIGGER notices_keep_what_they_ask ON notices;
DROP TRIGGER commitments_not_deleted ON commitments;
DROP TRIGGER commitments_called_only_grows ON commitments;
DROP TRIGGER commitments_keep_their_parties ON commitments;
DROP TRIGGER tranches_not_deleted ON tranches;
DROP TRIGGER tranches_keep_their_terms ON tranches;
DROP FUNCTION refuse_recorded_change();
