DROP INDEX sources_lei;
DROP INDEX sources_legal_name;
