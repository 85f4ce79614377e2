//! In-memory backend: a map behind a read-write lock. Nothing survives the process.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::{KvBackend, KvError};

/// In-memory key-value backend.
#[derive(Debug, Default)]
pub struct MemoryKv {
    map: RwLock<HashMap<String, Vec<u8>>>,
}

impl MemoryKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

// A poisoned lock only means a thread panicked while holding it; map operations are single
// calls that leave the map consistent, so the data is still valid.
impl KvBackend for MemoryKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(key).cloned())
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(key.to_string(), value.to_vec());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<bool, KvError> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(map.remove(key).is_some())
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.keys().cloned().collect())
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }
}
