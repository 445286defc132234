//! The engine's part of the metadata store (`<data-root>/metadata.db`, shared with the image
//! store, which keeps its own tables): containers, volumes and networks, each row the JSON of the
//! record beside the columns that must be unique. The daemon's working state is in memory;
//! every change is written through here in one transaction before it is acknowledged.

mod schema;

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{EngineError, Result};

pub struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        schema::migrate(&conn)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn load_all<T: DeserializeOwned>(&self, table: Table) -> Result<Vec<T>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT record FROM {}", table.name()))?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row?;
            let record = serde_json::from_str(&text).map_err(|e| {
                EngineError::Internal(format!("a {} record does not decode: {e}", table.name()))
            })?;
            out.push(record);
        }
        Ok(out)
    }

    pub fn get<T: DeserializeOwned>(&self, table: Table, key: &str) -> Result<Option<T>> {
        let conn = self.conn();
        let text: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT record FROM {} WHERE key = ?1",
                table.name()
            ))?
            .query_row(params![key], |r| r.get(0))
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t).map_err(|e| {
                EngineError::Internal(format!(
                    "the {} record {key} does not decode: {e}",
                    table.name()
                ))
            })
        })
        .transpose()
    }

    /// Inserts or replaces the record under `key`; `unique` is the column that must be unique
    /// across rows (a container's name), a clash failing as a conflict.
    pub fn put<T: Serialize>(
        &self,
        table: Table,
        key: &str,
        unique: &str,
        record: &T,
    ) -> Result<()> {
        let text = serde_json::to_string(record).map_err(|e| {
            EngineError::Internal(format!("encoding a {} record: {e}", table.name()))
        })?;
        // Statements are parsed once and kept: a container's record is written several
        // times on every run.
        self.conn()
            .prepare_cached(&format!(
                "INSERT INTO {} (key, name, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET name = excluded.name, record = excluded.record",
                table.name()
            ))?
            .execute(params![key, unique, text])?;
        Ok(())
    }

    pub fn delete(&self, table: Table, key: &str) -> Result<()> {
        self.conn()
            .prepare_cached(&format!("DELETE FROM {} WHERE key = ?1", table.name()))?
            .execute(params![key])?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Table {
    Containers,
    Volumes,
    Networks,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Containers => "containers",
            Table::Volumes => "volumes",
            Table::Networks => "networks",
        }
    }
}

#[cfg(test)]
mod tests;
