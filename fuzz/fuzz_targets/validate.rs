//! Arbitrary bytes through the validator and every report format.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| xtask_fuzz::validate_bytes(data));
