DROP INDEX notices_unpaid;
DROP INDEX grant_applications_status;
