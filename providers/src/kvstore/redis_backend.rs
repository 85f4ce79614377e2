//! Redis backend (synchronous `redis` client) with a small pool of connections, so concurrent
//! guests do not serialise on one socket. A connection that saw an error is dropped rather than
//! returned to the pool.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Client, Connection};

use super::{KvBackend, KvError};

/// Connections kept idle for reuse; more may be open while calls run concurrently.
const MAX_IDLE: usize = 8;
/// Keys fetched per `SCAN` round trip.
const SCAN_COUNT: usize = 1000;

/// A key-value backend on a Redis server. Keys are Redis string keys; values are stored
/// byte-exact. `keys` lists every key of the selected database (`redis://host:port/<db>`), so
/// give the suite a database of its own.
pub struct RedisKv {
    client: Client,
    idle: Mutex<Vec<Connection>>,
    timeout: Duration,
    display: String,
}

impl std::fmt::Debug for RedisKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisKv")
            .field("server", &self.display)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisKv {
    /// Connect to `url` (`redis://host:port/db`) with a 5 s connect/read/write timeout. Fails
    /// when the server cannot be reached now.
    ///
    /// # Errors
    ///
    /// [`KvError`] when `url` is invalid or the server does not answer.
    pub fn connect(url: &str) -> Result<Self, KvError> {
        Self::connect_with_timeout(url, Duration::from_secs(5))
    }

    /// Connect with an explicit timeout for connecting and for each command.
    ///
    /// # Errors
    ///
    /// [`KvError`] when `url` is invalid or the server does not answer in `timeout`.
    pub fn connect_with_timeout(url: &str, timeout: Duration) -> Result<Self, KvError> {
        let client = Client::open(url).map_err(|e| KvError(format!("invalid redis url: {e}")))?;
        let addr = client.get_connection_info().addr().to_string();
        let kv = RedisKv {
            client,
            idle: Mutex::new(Vec::new()),
            timeout,
            display: addr,
        };
        // Fail at startup, not on the first guest call, when the server is unreachable.
        let conn = kv.connection()?;
        kv.release(conn);
        Ok(kv)
    }

    fn connection(&self) -> Result<Connection, KvError> {
        if let Some(conn) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
        {
            return Ok(conn);
        }
        let conn = self
            .client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| KvError(format!("cannot connect to redis {}: {e}", self.display)))?;
        conn.set_read_timeout(Some(self.timeout))
            .map_err(KvError::from_display)?;
        conn.set_write_timeout(Some(self.timeout))
            .map_err(KvError::from_display)?;
        Ok(conn)
    }

    fn release(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Run `f` on a pooled connection; the connection goes back only if `f` succeeded.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, KvError> {
        let mut conn = self.connection()?;
        let out = f(&mut conn).map_err(KvError::from_display)?;
        self.release(conn);
        Ok(out)
    }
}

impl KvBackend for RedisKv {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.with(|c| redis::cmd("GET").arg(key).query(c))
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.with(|c| redis::cmd("SET").arg(key).arg(value).query(c))
    }

    fn delete(&self, key: &str) -> Result<bool, KvError> {
        self.with(|c| redis::cmd("DEL").arg(key).query::<i64>(c))
            .map(|n| n > 0)
    }

    fn keys(&self) -> Result<Vec<String>, KvError> {
        // SCAN instead of KEYS: it does not block the server on a large keyspace. SCAN may
        // repeat a key across rounds, hence the dedup.
        self.with(|c| {
            let mut keys = Vec::new();
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .cursor_arg(cursor)
                    .arg("COUNT")
                    .arg(SCAN_COUNT)
                    .query(c)?;
                keys.extend(
                    batch
                        .into_iter()
                        .map(|k| String::from_utf8_lossy(&k).into_owned()),
                );
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            keys.sort_unstable();
            keys.dedup();
            Ok(keys)
        })
    }

    fn describe(&self) -> String {
        format!("redis {}", self.display)
    }
}
