DROP TABLE facility_quarter_usage;
DROP TABLE usage_records;
DROP TABLE award_capacity;
DROP TABLE grant_awards;
DROP TABLE grant_reviews;
DROP TABLE grant_applications;
DROP TABLE grant_call_facilities;
DROP TABLE grant_calls;
