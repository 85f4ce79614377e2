//! Turning byte offsets of a TOML source into what a person can act on: a line, a column and the
//! dotted key at that position.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, Table, Value};

/// A position in a config file. Lines and columns count from 1; line 0 means the position is
/// unknown (only the file is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file (as given by the caller).
    pub path: PathBuf,
    /// 1-based line, or 0 when unknown.
    pub line: usize,
    /// 1-based column in characters, or 0 when unknown.
    pub column: usize,
}

impl Location {
    /// The position of byte `offset` of `source`. An offset past the end points just after the
    /// last character; an offset inside a multi-byte character points at that character.
    pub fn at_offset(path: &Path, source: &str, offset: usize) -> Self {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            path: path.to_path_buf(),
            line,
            column,
        }
    }

    /// A location that only knows the file.
    pub fn file(path: &Path) -> Self {
        Location {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Location {
    /// `path:line:column`, the form editors and terminals make clickable.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.path.display())
        } else {
            write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
        }
    }
}

/// The dotted path of the key whose entry (key or value) covers byte `offset`, e.g.
/// `guest.timeout_ms`, `route[1].provider` or `guest.wasi.dirs[0].host`; array-of-tables and
/// array elements are 0-based. A table header (or a blank line inside a table) maps to the
/// table's own path. `None` when the
/// source does not parse or nothing is at that offset.
pub(crate) fn key_path_at(source: &str, offset: usize) -> Option<String> {
    let doc = ImDocument::parse(source).ok()?;
    find_in_table(doc.as_table(), offset, "")
}

/// Where the table at the dotted `keys` begins: its own span (header) when it has one, else the
/// earliest span among its entries, recursively (an implicit table like `preset.tarmac` in a
/// file with only `[preset.tarmac.kvstore]`). `None` when the source does not parse or the
/// table is not there.
pub(crate) fn table_offset(source: &str, keys: &[&str]) -> Option<usize> {
    let doc = ImDocument::parse(source).ok()?;
    let mut item = doc.as_item();
    for key in keys {
        item = item.get(key)?;
    }
    earliest_in_item(item)
}

fn earliest_in_item(item: &Item) -> Option<usize> {
    match item {
        Item::Table(table) => earliest_in_table(table),
        Item::Value(value) => value.span().map(|s| s.start),
        Item::ArrayOfTables(array) => array.iter().filter_map(earliest_in_table).min(),
        Item::None => None,
    }
}

fn earliest_in_table(table: &Table) -> Option<usize> {
    if let Some(span) = table.span() {
        return Some(span.start);
    }
    table
        .iter()
        .filter_map(|(name, item)| {
            let key_start = table
                .get_key_value(name)
                .and_then(|(key, _)| key.span())
                .map(|s| s.start);
            match item {
                Item::Value(_) => key_start.or_else(|| earliest_in_item(item)),
                _ => earliest_in_item(item),
            }
        })
        .min()
}

fn covers(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.contains(&offset) || (s.is_empty() && s.start == offset))
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn find_in_table(table: &Table, offset: usize, prefix: &str) -> Option<String> {
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        let path = join(prefix, name);
        match item {
            Item::Value(value) => {
                if let Some(found) = find_in_entry(key.span(), value, offset, &path) {
                    return Some(found);
                }
            }
            Item::Table(sub) => {
                // Entries first: a table's span covers its header and body, and its entries
                // may also sit elsewhere (dotted keys, tables defined out of order).
                if let Some(found) = find_in_table(sub, offset, &path) {
                    return Some(found);
                }
                if covers(sub.span(), offset) {
                    return Some(path);
                }
            }
            Item::ArrayOfTables(array) => {
                for (index, sub) in array.iter().enumerate() {
                    let path = format!("{path}[{index}]");
                    if let Some(found) = find_in_table(sub, offset, &path) {
                        return Some(found);
                    }
                    if covers(sub.span(), offset) {
                        return Some(path);
                    }
                }
            }
            Item::None => {}
        }
    }
    None
}

/// `key = value`: the entry covers from the key to the end of the value.
fn find_in_entry(
    key_span: Option<Range<usize>>,
    value: &Value,
    offset: usize,
    path: &str,
) -> Option<String> {
    let value_span = value.span()?;
    let start = key_span.map_or(value_span.start, |k| k.start);
    if !(start..value_span.end).contains(&offset) {
        return None;
    }
    Some(find_in_value(value, offset, path))
}

fn find_in_value(value: &Value, offset: usize, path: &str) -> String {
    match value {
        Value::InlineTable(table) => {
            for (name, _) in table.iter() {
                if let Some((key, Item::Value(inner))) = table.get_key_value(name) {
                    if let Some(found) = find_in_entry(key.span(), inner, offset, &join(path, name))
                    {
                        return found;
                    }
                }
            }
            path.to_string()
        }
        Value::Array(array) => {
            for (index, element) in array.iter().enumerate() {
                if covers(element.span(), offset) {
                    return find_in_value(element, offset, &format!("{path}[{index}]"));
                }
            }
            path.to_string()
        }
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(source: &str, needle: &str) -> usize {
        source.find(needle).expect("needle in source")
    }

    #[test]
    fn line_and_column_are_one_based() {
        let src = "a = 1\nbb = 2\n";
        let loc = Location::at_offset(Path::new("x.toml"), src, at(src, "2"));
        assert_eq!((loc.line, loc.column), (2, 6));
        assert_eq!(loc.to_string(), "x.toml:2:6");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "k = \"é\" x";
        let loc = Location::at_offset(Path::new("x.toml"), src, at(src, "x"));
        assert_eq!((loc.line, loc.column), (1, 9));
    }

    #[test]
    fn offsets_past_the_end_or_inside_a_character_are_clamped() {
        let src = "é";
        let loc = Location::at_offset(Path::new("x.toml"), src, 1);
        assert_eq!((loc.line, loc.column), (1, 1));
        let loc = Location::at_offset(Path::new("x.toml"), src, 99);
        assert_eq!((loc.line, loc.column), (1, 2));
    }

    #[test]
    fn unknown_position_shows_only_the_file() {
        assert_eq!(
            Location::file(Path::new("a/b.toml")).to_string(),
            "a/b.toml"
        );
    }

    #[test]
    fn key_of_a_value_in_a_table() {
        let src = "[guest]\ntimeout_ms = \"x\"\n";
        assert_eq!(
            key_path_at(src, at(src, "\"x\"")).as_deref(),
            Some("guest.timeout_ms")
        );
        assert_eq!(
            key_path_at(src, at(src, "timeout_ms")).as_deref(),
            Some("guest.timeout_ms")
        );
    }

    #[test]
    fn key_in_an_array_of_tables_is_indexed() {
        let src = "[[route]]\nnamespace = \"a\"\n[[route]]\nnamespace = \"b\"\nprovder = 1\n";
        assert_eq!(
            key_path_at(src, at(src, "provder")).as_deref(),
            Some("route[1].provder")
        );
        let second_header = src.rfind("[[route]]").expect("header");
        assert_eq!(key_path_at(src, second_header).as_deref(), Some("route[1]"));
    }

    #[test]
    fn keys_inside_inline_tables_and_arrays() {
        let src = "[guest.wasi]\ndirs = [{ host = \"./d\", guest = 5 }]\n";
        assert_eq!(
            key_path_at(src, at(src, "5")).as_deref(),
            Some("guest.wasi.dirs[0].guest")
        );
    }

    #[test]
    fn dotted_keys_and_subtables() {
        let src = "[[route]]\nnamespace = \"a\"\n[route.options]\nmax = \"many\"\n";
        assert_eq!(
            key_path_at(src, at(src, "\"many\"")).as_deref(),
            Some("route[0].options.max")
        );
        let src = "guest.timeout_ms = true\n";
        assert_eq!(
            key_path_at(src, at(src, "true")).as_deref(),
            Some("guest.timeout_ms")
        );
    }

    #[test]
    fn nothing_at_blank_space_or_in_broken_toml() {
        let src = "a = 1\n\n\nb = 2\n";
        assert_eq!(key_path_at(src, 7), None);
        assert_eq!(key_path_at("a = = 1", 0), None);
    }
}
