//! Fuzz target: `ruzk::fuzzing::quorum_packets` (see src/fuzzing.rs for what it drives).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ruzk::fuzzing::quorum_packets(data));
