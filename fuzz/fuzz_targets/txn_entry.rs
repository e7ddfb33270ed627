//! Fuzz target: `ruzk::fuzzing::txn_entry` (see src/fuzzing.rs for what it drives).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruzk::fuzzing::txn_entry(data));
