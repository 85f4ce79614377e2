//! Embedded persistent backend on [`redb`]: one file, ACID transactions, no server. The CLI's
//! default store, kept in its data directory.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::{KvBackend, KvError};

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kvstore");

/// A key-value backend stored in one redb file.
pub struct RedbKv {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for RedbKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbKv").field("path", &self.path).finish()
    }
}

impl RedbKv {
    /// Open the database file at `path`, creating it (but not its directory) when missing.
    ///
    /// # Errors
    ///
    /// [`KvError`] when the file cannot be opened or created, or is not a redb database.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KvError> {
        let path = path.as_ref().to_path_buf();
        let db = Database::create(&path)
            .map_err(|e| KvError(format!("cannot open redb database {}: {e}", path.display())))?;
        // Create the table up front so readers never meet "table does not exist".
        let txn = db.begin_write().map_err(KvError::from_display)?;
        txn.open_table(TABLE).map_err(KvError::from_display)?;
        txn.commit().map_err(KvError::from_display)?;
        Ok(RedbKv { db, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KvBackend for RedbKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let txn = self.db.begin_read().map_err(KvError::from_display)?;
        let table = txn.open_table(TABLE).map_err(KvError::from_display)?;
        let value = table.get(key).map_err(KvError::from_display)?;
        Ok(value.map(|guard| guard.value().to_vec()))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let txn = self.db.begin_write().map_err(KvError::from_display)?;
        {
            let mut table = txn.open_table(TABLE).map_err(KvError::from_display)?;
            table.insert(key, value).map_err(KvError::from_display)?;
        }
        txn.commit().map_err(KvError::from_display)
    }

    fn delete(&self, key: &str) -> Result<bool, KvError> {
        let txn = self.db.begin_write().map_err(KvError::from_display)?;
        let existed = {
            let mut table = txn.open_table(TABLE).map_err(KvError::from_display)?;
            let removed = table.remove(key).map_err(KvError::from_display)?;
            removed.is_some()
        };
        txn.commit().map_err(KvError::from_display)?;
        Ok(existed)
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        let txn = self.db.begin_read().map_err(KvError::from_display)?;
        let table = txn.open_table(TABLE).map_err(KvError::from_display)?;
        let mut keys = Vec::new();
        for entry in table.iter().map_err(KvError::from_display)? {
            let (key, _) = entry.map_err(KvError::from_display)?;
            keys.push(key.value().to_string());
        }
        Ok(keys)
    }

    fn describe(&self) -> String {
        format!("redb {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv.redb");
        {
            let kv = RedbKv::open(&path).unwrap();
            kv.set("k", b"\x00\xffv").unwrap();
        }
        let kv = RedbKv::open(&path).unwrap();
        assert_eq!(kv.get("k").unwrap(), Some(b"\x00\xffv".to_vec()));
        assert_eq!(kv.keys().unwrap(), vec!["k".to_string()]);
    }

    #[test]
    fn open_in_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = RedbKv::open(dir.path().join("no/such/dir/kv.redb")).unwrap_err();
        assert!(err.0.starts_with("cannot open redb database"), "{err}");
    }
}
