//! Any bytes as a job spec: parsing and validation never panic, and whatever they accept
//! serialises back to a spec they accept again (what the job table stores and reads).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusk::spec::JobSpec;

fuzz_target!(|data: &[u8]| {
    if let Ok(spec) = JobSpec::from_json(data) {
        let stored = serde_json::to_vec(&spec).expect("a parsed spec serialises");
        let again = JobSpec::from_json(&stored).expect("a stored spec parses again");
        assert_eq!(again, spec);
    }
});
