//! Fuzz target: `ruzk::fuzzing::txnlog_file` (see src/fuzzing.rs for what it drives).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruzk::fuzzing::txnlog_file(data));
