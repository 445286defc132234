//! The image component's tables and their migrations.

use rusqlite::{Connection, params};

use super::MetaError;

const COMPONENT: &str = "image";

/// Each entry brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE layers (
        chain_id TEXT PRIMARY KEY,
        diff_id TEXT NOT NULL,
        blob TEXT NOT NULL,
        blob_media_type TEXT NOT NULL,
        blob_size INTEGER NOT NULL,
        unpacked_size INTEGER NOT NULL
    );
    CREATE TABLE images (
        id TEXT PRIMARY KEY,
        manifest TEXT NOT NULL,
        manifest_media_type TEXT NOT NULL,
        stored_at TEXT NOT NULL,
        last_tagged_at TEXT
    );
    CREATE TABLE image_layers (
        image_id TEXT NOT NULL REFERENCES images(id),
        position INTEGER NOT NULL,
        chain_id TEXT NOT NULL REFERENCES layers(chain_id),
        PRIMARY KEY (image_id, position)
    );
    CREATE TABLE tags (
        name TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id)
    );
    CREATE INDEX tags_by_image ON tags(image_id);
    CREATE TABLE repo_digests (
        name TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id)
    );
    CREATE TABLE snapshots (
        container TEXT PRIMARY KEY,
        image_id TEXT NOT NULL,
        chain_ids TEXT NOT NULL
    );
"];

pub(super) fn migrate(conn: &Connection) -> Result<(), MetaError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )?;
    let current: i64 = conn
        .query_row(
            "SELECT version FROM schema_versions WHERE component = ?1",
            params![COMPONENT],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(0),
            e => Err(e),
        })?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(MetaError::TooNew {
            found: current,
            supported,
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
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
