//! The schema as the migrations leave it, on both backends: what no single feature's test sees.

use crate::common;

use common::TestApp;
use diesel::prelude::*;
use diesel::sql_types::Text;
use investai::storage::DbConnection;

#[derive(QueryableByName)]
struct IndexColumns {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    index_name: String,
    /// The indexed columns (or expressions, each with ` DESC` where it descends) and the index's
    /// predicate, in key order.
    #[diesel(sql_type = Text)]
    key: String,
}

/// Every index of the application's tables with its key, as the database's catalogue lists it.
fn indexes(conn: &mut DbConnection) -> Vec<IndexColumns> {
    let listed = match conn {
        DbConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT c.relname::text AS table_name, i.relname::text AS index_name, \
             pg_get_indexdef(x.indexrelid) AS key \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
        )
        .load::<IndexColumns>(pg),
        DbConnection::Sqlite(sqlite) => diesel::sql_query(
            "SELECT m.name AS table_name, l.name AS index_name, \
             (SELECT group_concat(name, ',') FROM (SELECT coalesce(name, '<expression>') \
              || CASE WHEN \"desc\" THEN ' DESC' ELSE '' END AS name \
              FROM pragma_index_xinfo(l.name) WHERE key = 1 ORDER BY seqno)) || ' where ' || l.partial AS key \
             FROM sqlite_master m, pragma_index_list(m.name) l WHERE m.type = 'table'",
        )
        .load::<IndexColumns>(sqlite),
    };
    listed.expect("the catalogue's indexes")
}

/// The part of PostgreSQL's index definition that says what it indexes, without its name:
/// `CREATE [UNIQUE] INDEX name ON public.t USING btree (a, b) WHERE ...` gives `(a, b) WHERE ...`.
fn indexed(definition: &str) -> &str {
    definition.split_once(" USING ").map_or(definition, |(_, rest)| rest)
}

/// No index repeats another's key on the same table: each costs every insert an index write,
/// and a plain index beside a UNIQUE constraint's own serves no lookup the constraint's does not.
async fn no_index_repeats_another(app: TestApp) {
    let mut conn = app.conn();
    let listed = indexes(&mut conn);
    assert!(listed.iter().any(|i| i.table_name == "usage_records"), "the catalogue lists the indexes");
    let mut seen = std::collections::BTreeMap::new();
    let mut repeated = Vec::new();
    for index in &listed {
        let key = (index.table_name.as_str(), indexed(&index.key));
        if let Some(first) = seen.insert(key, index.index_name.as_str()) {
            repeated.push(format!("{}: {} and {} on {}", index.table_name, first, index.index_name, key.1));
        }
    }
    assert!(repeated.is_empty(), "indexes that repeat another: {repeated:#?}");
}

on_both_backends!(no_index_repeats_another);

#[derive(QueryableByName)]
struct RowidKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// SQLite's `INTEGER PRIMARY KEY` columns: each is the table's rowid, the key its rows are stored
/// in, so it has no index of its own as PostgreSQL's primary key has.
fn rowid_keys(conn: &mut DbConnection) -> Vec<(String, String)> {
    let DbConnection::Sqlite(sqlite) = conn else { return Vec::new() };
    let keys: Vec<RowidKey> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND p.pk = 1 AND upper(p.type) = 'INTEGER' \
         AND (SELECT count(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1",
    )
    .load(sqlite)
    .expect("the rowid keys");
    keys.into_iter().map(|k| (k.table_name, k.column_name)).collect()
}

#[derive(QueryableByName)]
struct UniqueFlag {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    unique: i32,
}

/// SQLite's unique indexes by name (PostgreSQL's definition says so itself).
fn unique_on_sqlite(conn: &mut DbConnection) -> std::collections::BTreeSet<String> {
    let DbConnection::Sqlite(sqlite) = conn else { return Default::default() };
    let flags: Vec<UniqueFlag> = diesel::sql_query(
        "SELECT l.name AS index_name, l.\"unique\" AS \"unique\" FROM sqlite_master m, pragma_index_list(m.name) l \
         WHERE m.type = 'table'",
    )
    .load(sqlite)
    .expect("the unique flags");
    flags.into_iter().filter(|f| f.unique == 1).map(|f| f.index_name).collect()
}

/// What each index of the application's tables serves, by table: the columns it covers in key
/// order, and whether it is unique and partial, whatever its name or the backend's way of
/// declaring it.
fn indexed_columns(conn: &mut DbConnection) -> std::collections::BTreeSet<(String, String)> {
    let rowid_keys = rowid_keys(conn);
    let unique_on_sqlite = unique_on_sqlite(conn);
    indexes(conn)
        .into_iter()
        .filter(|i| !i.table_name.starts_with("__diesel"))
        .map(|i| {
            let (columns, unique, partial) = match conn {
                DbConnection::Postgresql(_) => {
                    let key = indexed(&i.key);
                    let (columns, predicate) = key.split_once(" WHERE ").map_or((key, None), |(c, p)| (c, Some(p)));
                    let columns =
                        columns.trim_start_matches("btree ").trim_matches(|c| c == '(' || c == ')').replace(", ", ",");
                    (columns, i.key.starts_with("CREATE UNIQUE "), predicate.is_some())
                }
                DbConnection::Sqlite(_) => {
                    let (columns, partial) = i.key.split_once(" where ").unwrap_or((i.key.as_str(), "0"));
                    (columns.to_string(), unique_on_sqlite.contains(&i.index_name), partial == "1")
                }
            };
            let kind = match (unique, partial) {
                (true, true) => " unique partial",
                (true, false) => " unique",
                (false, true) => " partial",
                (false, false) => "",
            };
            (i.table_name, format!("{columns}{kind}"))
        })
        .chain(rowid_keys.into_iter().map(|(table, column)| (table, format!("{column} unique"))))
        .collect()
}

/// Each backend has its own migration folder: an index added to one and forgotten in the other
/// leaves that backend reading a whole table where the other reads a few rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_index_the_same_columns() {
    let sqlite = common::spawn_app(common::Backend::Sqlite).await;
    let postgres = common::spawn_app(common::Backend::Postgres).await;
    let on_sqlite = indexed_columns(&mut sqlite.conn());
    let on_postgres = indexed_columns(&mut postgres.conn());
    let only_sqlite: Vec<_> = on_sqlite.difference(&on_postgres).collect();
    let only_postgres: Vec<_> = on_postgres.difference(&on_sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "indexed on SQLite only: {only_sqlite:#?}\nindexed on PostgreSQL only: {only_postgres:#?}"
    );
}
