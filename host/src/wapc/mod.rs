//! waPC hosting: the host callback adapters, a hardened engine and a pooled guest runtime.
