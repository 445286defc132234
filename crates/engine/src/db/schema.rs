//! The engine component's tables and their migrations (the versions table is shared with the
//! image component, one row per component).

use rusqlite::{Connection, OptionalExtension, params};

const COMPONENT: &str = "engine";

/// Each entry brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE containers (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    );
    CREATE TABLE volumes (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    );
",
    "
    CREATE TABLE networks (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        record TEXT NOT NULL
    );
",
];

pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )?;
    let current: i64 = conn
        .query_row(
            "SELECT version FROM schema_versions WHERE component = ?1",
            params![COMPONENT],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?1, ?2)",
            params![COMPONENT, version as i64 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}
