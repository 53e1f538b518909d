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
    /// The indexed columns (or expressions) and the index's predicate, in key order.
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
             (SELECT group_concat(name, ',') FROM (SELECT coalesce(name, '<expression>') AS name \
              FROM pragma_index_info(l.name) ORDER BY seqno)) || ' where ' || l.partial AS key \
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
