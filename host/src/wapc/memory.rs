//! Bounds-checked views of a guest's linear memory.
//!
//! waPC passes `(i32 pointer, i32 length)` pairs. wasmtime-provider slices guest memory with
//! them directly and panics the host on a bad pair; here every pair is checked and a bad one
//! becomes an [`AbiViolation`] that traps only the guest.

use super::error::AbiViolation;

/// The `len` bytes at `ptr` in `memory`, or an error naming `import`.
///
/// Pointers and lengths are wasm32 values: their bits are read as unsigned.
pub(crate) fn slice<'a>(
    memory: &'a [u8],
    ptr: i32,
    len: i32,
    import: &'static str,
) -> Result<&'a [u8], AbiViolation> {
    let (start, end) = range(memory.len(), ptr, len, import)?;
    Ok(&memory[start..end])
}

/// Copy `bytes` into `memory` at `ptr`, or an error naming `import`.
pub(crate) fn write(
    memory: &mut [u8],
    ptr: i32,
    bytes: &[u8],
    import: &'static str,
) -> Result<(), AbiViolation> {
    let len = i32::try_from(bytes.len()).map_err(|_| AbiViolation::TooLarge {
        import,
        len: bytes.len(),
    })?;
    let (start, end) = range(memory.len(), ptr, len, import)?;
    memory[start..end].copy_from_slice(bytes);
    Ok(())
}

/// A buffer length as the `i32` the ABI returns.
pub(crate) fn abi_len(len: usize, import: &'static str) -> Result<i32, AbiViolation> {
    i32::try_from(len).map_err(|_| AbiViolation::TooLarge { import, len })
}

/// UTF-8 text of a name argument.
pub(crate) fn utf8<'a>(
    bytes: &'a [u8],
    import: &'static str,
    what: &'static str,
) -> Result<&'a str, AbiViolation> {
    std::str::from_utf8(bytes).map_err(|_| AbiViolation::InvalidUtf8 { import, what })
}

fn range(
    memory_size: usize,
    ptr: i32,
    len: i32,
    import: &'static str,
) -> Result<(usize, usize), AbiViolation> {
    // wasm32 addresses are unsigned: reinterpret the bits rather than sign-extend.
    let ptr = ptr as u32;
    let len = len as u32;
    let out_of_bounds = || AbiViolation::OutOfBounds {
        import,
        ptr,
        len,
        memory_size,
    };
    let start = usize::try_from(ptr).map_err(|_| out_of_bounds())?;
    let count = usize::try_from(len).map_err(|_| out_of_bounds())?;
    let end = start.checked_add(count).ok_or_else(out_of_bounds)?;
    if end > memory_size {
        return Err(out_of_bounds());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_inside_memory() {
        let mem = [1u8, 2, 3, 4];
        assert_eq!(slice(&mem, 1, 2, "t"), Ok(&[2u8, 3][..]));
        assert_eq!(slice(&mem, 4, 0, "t"), Ok(&[][..]));
    }

    #[test]
    fn slice_past_the_end_is_refused() {
        let mem = [0u8; 4];
        assert_eq!(
            slice(&mem, 3, 2, "__console_log"),
            Err(AbiViolation::OutOfBounds {
                import: "__console_log",
                ptr: 3,
                len: 2,
                memory_size: 4
            })
        );
    }

    #[test]
    fn negative_values_are_huge_unsigned_values() {
        let mem = [0u8; 4];
        assert_eq!(
            slice(&mem, -1, 1, "t"),
            Err(AbiViolation::OutOfBounds {
                import: "t",
                ptr: u32::MAX,
                len: 1,
                memory_size: 4
            })
        );
        assert!(matches!(
            slice(&mem, 0, -1, "t"),
            Err(AbiViolation::OutOfBounds { len: u32::MAX, .. })
        ));
    }

    #[test]
    fn write_checks_bounds_and_copies() {
        let mut mem = [0u8; 4];
        assert_eq!(write(&mut mem, 2, b"ab", "t"), Ok(()));
        assert_eq!(mem, [0, 0, b'a', b'b']);
        assert!(matches!(
            write(&mut mem, 3, b"ab", "t"),
            Err(AbiViolation::OutOfBounds { ptr: 3, len: 2, .. })
        ));
        assert_eq!(mem, [0, 0, b'a', b'b']);
    }

    #[test]
    fn invalid_utf8_names_the_argument() {
        assert_eq!(
            utf8(&[0xff], "__host_call", "namespace"),
            Err(AbiViolation::InvalidUtf8 {
                import: "__host_call",
                what: "namespace"
            })
        );
    }
}
