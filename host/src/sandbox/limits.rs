//! One `ResourceLimiter` for every sandboxed store: linear memory, tables and (for components)
//! core instances, with a typed [`LimitHit`] when a guest goes over a cap.

use wasmtime::ResourceLimiter;

/// The caps of one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Cap on each linear memory, bytes.
    pub(crate) max_memory_bytes: usize,
    /// Cap on each table, elements.
    pub(crate) max_table_elements: usize,
    /// What going over the table cap does. waPC guests keep wasm's own answer (`table.grow`
    /// returns -1, as under wasmtime-provider); components trap with a [`LimitHit`].
    pub(crate) table_overrun: TableOverrun,
    /// Cap on the core instances, memories and tables a component may create (a core
    /// module has one of each: wasmtime's defaults apply).
    pub(crate) max_instances: Option<usize>,
}

/// What a `table.grow` over the cap does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableOverrun {
    /// The grow fails (`-1`); the guest decides.
    FailGrow,
    /// The call traps with [`LimitHit::Table`].
    Trap,
}

/// A cap the guest tried to go over, raised by the limiter as the error of the running call
/// (so the call ends at once with a typed error instead of a guest abort further on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LimitHit {
    /// A linear memory would grow past the cap.
    #[error("memory of {requested} bytes is over the cap of {limit} bytes")]
    Memory {
        /// The size asked for, bytes.
        requested: usize,
        /// The cap, bytes.
        limit: usize,
    },
    /// A table would grow past the cap.
    #[error("table of {requested} elements is over the cap of {limit}")]
    Table {
        /// The size asked for, elements.
        requested: usize,
        /// The cap, elements.
        limit: usize,
    },
}

/// The limiter a store installs with `Store::limiter`.
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Self {
        Limiter { limits }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.limits.max_memory_bytes;
        if desired > limit {
            return Err(wasmtime::Error::new(LimitHit::Memory {
                requested: desired,
                limit,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let limit = self.limits.max_table_elements;
        if desired <= limit {
            return Ok(true);
        }
        match self.limits.table_overrun {
            TableOverrun::FailGrow => Ok(false),
            TableOverrun::Trap => Err(wasmtime::Error::new(LimitHit::Table {
                requested: desired,
                limit,
            })),
        }
    }

    fn instances(&self) -> usize {
        self.limits
            .max_instances
            .unwrap_or(wasmtime::DEFAULT_INSTANCE_LIMIT)
    }

    fn tables(&self) -> usize {
        self.limits
            .max_instances
            .unwrap_or(wasmtime::DEFAULT_TABLE_LIMIT)
    }

    fn memories(&self) -> usize {
        self.limits
            .max_instances
            .unwrap_or(wasmtime::DEFAULT_MEMORY_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(table_overrun: TableOverrun) -> Limiter {
        Limiter::new(Limits {
            max_memory_bytes: 65536,
            max_table_elements: 10,
            table_overrun,
            max_instances: None,
        })
    }

    #[test]
    fn memory_over_the_cap_is_a_typed_hit() {
        let mut limiter = limiter(TableOverrun::FailGrow);
        assert!(limiter.memory_growing(0, 65536, None).expect("at the cap"));
        let err = limiter.memory_growing(0, 65537, None).expect_err("over");
        assert_eq!(
            err.downcast_ref::<LimitHit>(),
            Some(&LimitHit::Memory {
                requested: 65537,
                limit: 65536
            })
        );
    }

    #[test]
    fn table_overrun_fails_the_grow_or_traps() {
        let mut fail = limiter(TableOverrun::FailGrow);
        assert!(!fail.table_growing(0, 11, None).expect("a failed grow"));
        let mut trap = limiter(TableOverrun::Trap);
        let err = trap.table_growing(0, 11, None).expect_err("a trap");
        assert_eq!(
            err.downcast_ref::<LimitHit>()
                .map(ToString::to_string)
                .as_deref(),
            Some("table of 11 elements is over the cap of 10")
        );
    }

    #[test]
    fn instance_cap_is_the_extra_knob() {
        let limiter = Limiter::new(Limits {
            max_memory_bytes: 1,
            max_table_elements: 1,
            table_overrun: TableOverrun::Trap,
            max_instances: Some(3),
        });
        assert_eq!(
            (limiter.instances(), limiter.tables(), limiter.memories()),
            (3, 3, 3)
        );
        let default = self::limiter(TableOverrun::Trap);
        assert_eq!(default.instances(), wasmtime::DEFAULT_INSTANCE_LIMIT);
    }
}
