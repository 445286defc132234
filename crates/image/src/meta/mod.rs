//! The image metadata in `metadata.db` (SQLite, WAL): which images exist, their layers, tags
//! and repo digests, unpacked layers, and the container snapshots that use them. Every change
//! that makes an image visible is one transaction, made only after its blobs and layers are
//! complete on disk: a crash leaves either no image or a whole one.
//!
//! Tables are the image component's own (the engine adds its own beside them); the schema has
//! a version per component and is migrated forward at open.

mod schema;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use crate::digest::Digest;

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("metadata store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("metadata store holds a bad value in {table}.{column}: {value:?}")]
    Corrupt {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    #[error(
        "metadata store schema version {found} is newer than this pier understands ({supported})"
    )]
    TooNew { found: i64, supported: i64 },
}

type Result<T, E = MetaError> = std::result::Result<T, E>;

/// One unpacked layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub chain_id: Digest,
    pub diff_id: Digest,
    /// The blob it was unpacked from, and its media type (layers keep their blob for save and push).
    pub blob: Digest,
    pub blob_media_type: String,
    pub blob_size: u64,
    /// Bytes of file data in the unpacked layer.
    pub unpacked_size: u64,
}

/// One image, by the digest of its config (Docker's image id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub id: Digest,
    pub manifest: Digest,
    pub manifest_media_type: String,
    /// RFC 3339 time it was stored here.
    pub stored_at: String,
    /// RFC 3339 time it was last tagged here, if ever.
    pub last_tagged_at: Option<String>,
}

/// A container's writable layer over an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub container: String,
    pub image: Digest,
    /// The image's layers when the snapshot was made, bottom to top: they stay in use even if
    /// the image is removed (by force) while the container exists.
    pub chain_ids: Vec<Digest>,
}

pub(crate) struct Meta {
    conn: Mutex<Connection>,
}

fn digest(table: &'static str, column: &'static str, value: String) -> Result<Digest> {
    value.parse().map_err(|_| MetaError::Corrupt {
        table,
        column,
        value,
    })
}

impl Meta {
    pub fn open(path: &Path) -> Result<Meta> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&conn)?;
        Ok(Meta {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // Layers.

    pub fn layer(&self, chain_id: &Digest) -> Result<Option<LayerRow>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT diff_id, blob, blob_media_type, blob_size, unpacked_size FROM layers WHERE chain_id = ?1",
                params![chain_id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(diff, blob, media, blob_size, unpacked)| {
            Ok(LayerRow {
                chain_id: chain_id.clone(),
                diff_id: digest("layers", "diff_id", diff)?,
                blob: digest("layers", "blob", blob)?,
                blob_media_type: media,
                blob_size: blob_size as u64,
                unpacked_size: unpacked as u64,
            })
        })
        .transpose()
    }

    pub fn put_layer(&self, layer: &LayerRow) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO layers (chain_id, diff_id, blob, blob_media_type, blob_size, unpacked_size)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                layer.chain_id.to_string(),
                layer.diff_id.to_string(),
                layer.blob.to_string(),
                layer.blob_media_type,
                layer.blob_size as i64,
                layer.unpacked_size as i64
            ],
        )?;
        Ok(())
    }

    pub fn delete_layer(&self, chain_id: &Digest) -> Result<()> {
        self.conn().execute(
            "DELETE FROM layers WHERE chain_id = ?1",
            params![chain_id.to_string()],
        )?;
        Ok(())
    }

    pub fn all_layers(&self) -> Result<Vec<LayerRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT chain_id FROM layers ORDER BY chain_id")?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        drop(conn);
        let mut rows = Vec::new();
        for id in ids {
            if let Some(row) = self.layer(&digest("layers", "chain_id", id)?)? {
                rows.push(row);
            }
        }
        Ok(rows)
    }

    // Images.

    /// Records an image with its layers (which must already be recorded) and moves `tags` to
    /// it, all at once.
    pub fn put_image(
        &self,
        image: &ImageRow,
        chain_ids: &[Digest],
        tags: &[String],
        repo_digests: &[String],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO images (id, manifest, manifest_media_type, stored_at, last_tagged_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET manifest = excluded.manifest, manifest_media_type = excluded.manifest_media_type",
            params![
                image.id.to_string(),
                image.manifest.to_string(),
                image.manifest_media_type,
                image.stored_at,
                image.last_tagged_at
            ],
        )?;
        tx.execute(
            "DELETE FROM image_layers WHERE image_id = ?1",
            params![image.id.to_string()],
        )?;
        for (position, chain) in chain_ids.iter().enumerate() {
            tx.execute(
                "INSERT INTO image_layers (image_id, position, chain_id) VALUES (?1, ?2, ?3)",
                params![image.id.to_string(), position as i64, chain.to_string()],
            )?;
        }
        for tag in tags {
            tx.execute(
                "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?1, ?2)",
                params![tag, image.id.to_string()],
            )?;
        }
        if !tags.is_empty() {
            tx.execute(
                "UPDATE images SET last_tagged_at = ?2 WHERE id = ?1",
                params![image.id.to_string(), image.stored_at],
            )?;
        }
        for rd in repo_digests {
            tx.execute(
                "INSERT OR REPLACE INTO repo_digests (name, image_id) VALUES (?1, ?2)",
                params![rd, image.id.to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn image_from(row: (String, String, String, String, Option<String>)) -> Result<ImageRow> {
        Ok(ImageRow {
            id: digest("images", "id", row.0)?,
            manifest: digest("images", "manifest", row.1)?,
            manifest_media_type: row.2,
            stored_at: row.3,
            last_tagged_at: row.4,
        })
    }

    const IMAGE_COLUMNS: &'static str =
        "id, manifest, manifest_media_type, stored_at, last_tagged_at";

    pub fn image(&self, id: &Digest) -> Result<Option<ImageRow>> {
        let conn = self.conn();
        let row = conn
            .prepare_cached(&format!(
                "SELECT {} FROM images WHERE id = ?1",
                Self::IMAGE_COLUMNS
            ))?
            .query_row(params![id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        row.map(Self::image_from).transpose()
    }

    pub fn images(&self) -> Result<Vec<ImageRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM images ORDER BY stored_at DESC, id",
            Self::IMAGE_COLUMNS
        ))?;
        let rows: Vec<(String, String, String, String, Option<String>)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        rows.into_iter().map(Self::image_from).collect()
    }

    /// Image ids that start with `prefix` (hex, without "sha256:").
    pub fn images_with_prefix(&self, prefix: &str) -> Result<Vec<Digest>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id FROM images WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2")?;
        let low = format!("sha256:{prefix}");
        let high = format!("sha256:{prefix}\u{10ffff}");
        let ids: Vec<String> = stmt
            .query_map(params![low, high], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|id| digest("images", "id", id))
            .collect()
    }

    pub fn image_layers(&self, id: &Digest) -> Result<Vec<Digest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT chain_id FROM image_layers WHERE image_id = ?1 ORDER BY position",
        )?;
        let ids: Vec<String> = stmt
            .query_map(params![id.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter()
            .map(|c| digest("image_layers", "chain_id", c))
            .collect()
    }

    /// Removes an image and its tags and repo digests (its layers stay until collected).
    pub fn delete_image(&self, id: &Digest) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for table in ["tags", "repo_digests", "image_layers"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE image_id = ?1"),
                params![id.to_string()],
            )?;
        }
        tx.execute("DELETE FROM images WHERE id = ?1", params![id.to_string()])?;
        tx.commit()?;
        Ok(())
    }

    // Tags and repo digests.

    pub fn tag_target(&self, name: &str) -> Result<Option<Digest>> {
        let id: Option<String> = self
            .conn()
            .prepare_cached("SELECT image_id FROM tags WHERE name = ?1")?
            .query_row(params![name], |r| r.get(0))
            .optional()?;
        id.map(|id| digest("tags", "image_id", id)).transpose()
    }

    pub fn repo_digest_target(&self, name: &str) -> Result<Option<Digest>> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT image_id FROM repo_digests WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        id.map(|id| digest("repo_digests", "image_id", id))
            .transpose()
    }

    pub fn set_tag(&self, name: &str, image: &Digest, now: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO tags (name, image_id) VALUES (?1, ?2)",
            params![name, image.to_string()],
        )?;
        tx.execute(
            "UPDATE images SET last_tagged_at = ?2 WHERE id = ?1",
            params![image.to_string(), now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes a tag; false if there was none.
    pub fn remove_tag(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM tags WHERE name = ?1", params![name])?
            > 0)
    }

    pub fn remove_repo_digest(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM repo_digests WHERE name = ?1", params![name])?
            > 0)
    }

    fn names_of(&self, table: &str, id: &Digest) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT name FROM {table} WHERE image_id = ?1 ORDER BY name"
        ))?;
        Ok(stmt
            .query_map(params![id.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    pub fn tags_of(&self, id: &Digest) -> Result<Vec<String>> {
        self.names_of("tags", id)
    }

    pub fn repo_digests_of(&self, id: &Digest) -> Result<Vec<String>> {
        self.names_of("repo_digests", id)
    }

    // Snapshots.

    pub fn put_snapshot(&self, snapshot: &SnapshotRow) -> Result<()> {
        let chain: Vec<String> = snapshot.chain_ids.iter().map(Digest::to_string).collect();
        self.without_sync(|conn| {
            conn.prepare_cached(
                "INSERT INTO snapshots (container, image_id, chain_ids) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![
                snapshot.container,
                snapshot.image.to_string(),
                chain.join(",")
            ])
        })?;
        Ok(())
    }

    /// Runs `write` committing without waiting for the disk (`synchronous=NORMAL`), for the
    /// rows of containers' snapshots, which come and go with every `run --rm`. Still atomic;
    /// a power cut may lose the last of them, and with them the containers' own records, which
    /// the engine writes after them into the same log (SQLite's WAL replays a prefix).
    fn without_sync<T>(
        &self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let conn = self.conn();
        conn.prepare_cached("PRAGMA synchronous = NORMAL")?
            .execute([])?;
        let result = write(&conn);
        conn.prepare_cached("PRAGMA synchronous = FULL")?
            .execute([])?;
        result
    }

    pub fn snapshot(&self, container: &str) -> Result<Option<SnapshotRow>> {
        let row: Option<(String, String)> = self
            .conn()
            .prepare_cached("SELECT image_id, chain_ids FROM snapshots WHERE container = ?1")?
            .query_row(params![container], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        row.map(|(image, chain)| {
            Ok(SnapshotRow {
                container: container.to_owned(),
                image: digest("snapshots", "image_id", image)?,
                chain_ids: chain
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|c| digest("snapshots", "chain_ids", c.to_owned()))
                    .collect::<Result<_>>()?,
            })
        })
        .transpose()
    }

    pub fn delete_snapshot(&self, container: &str) -> Result<bool> {
        Ok(self.without_sync(|conn| {
            conn.prepare_cached("DELETE FROM snapshots WHERE container = ?1")?
                .execute(params![container])
        })? > 0)
    }

    /// Containers whose snapshot was made from `image`.
    pub fn snapshots_of_image(&self, image: &Digest) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT container FROM snapshots WHERE image_id = ?1 ORDER BY container")?;
        Ok(stmt
            .query_map(params![image.to_string()], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    // What garbage collection must keep.

    /// Layers used by an image or a snapshot.
    pub fn used_layers(&self) -> Result<HashSet<Digest>> {
        let conn = self.conn();
        let mut used = HashSet::new();
        let mut stmt = conn.prepare("SELECT DISTINCT chain_id FROM image_layers")?;
        for c in stmt.query_map([], |r| r.get::<_, String>(0))? {
            used.insert(digest("image_layers", "chain_id", c?)?);
        }
        let mut stmt = conn.prepare("SELECT chain_ids FROM snapshots")?;
        for chain in stmt.query_map([], |r| r.get::<_, String>(0))? {
            for c in chain?.split(',').filter(|s| !s.is_empty()) {
                used.insert(digest("snapshots", "chain_ids", c.to_owned())?);
            }
        }
        Ok(used)
    }

    /// Blobs referenced by an image (manifest, config) or by a layer that is kept.
    pub fn used_blobs(&self, kept_layers: &HashSet<Digest>) -> Result<HashSet<Digest>> {
        let conn = self.conn();
        let mut used = HashSet::new();
        let mut stmt = conn.prepare("SELECT id, manifest FROM images")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, manifest) = row?;
            used.insert(digest("images", "id", id)?);
            used.insert(digest("images", "manifest", manifest)?);
        }
        let mut stmt = conn.prepare("SELECT chain_id, blob FROM layers")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (chain, blob) = row?;
            if kept_layers.contains(&digest("layers", "chain_id", chain)?) {
                used.insert(digest("layers", "blob", blob)?);
            }
        }
        Ok(used)
    }
}
