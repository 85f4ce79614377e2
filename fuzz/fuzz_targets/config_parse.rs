//! The `switchboard.toml` loader: arbitrary text gives a config or an error located in the file
//! (its message starts with the file's path), never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard::config::Config;

const PATH: &str = "fuzz/switchboard.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(err) = Config::parse(text, PATH) {
        let message = err.to_string();
        assert!(message.starts_with(PATH), "unlocated error: {message}");
    }
});
