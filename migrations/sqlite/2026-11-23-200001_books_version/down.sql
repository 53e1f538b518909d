DROP TABLE books_version;
