DROP TRIGGER grant_awards_keep_their_record ON grant_awards;
DROP FUNCTION grant_award_keeps_its_record();
