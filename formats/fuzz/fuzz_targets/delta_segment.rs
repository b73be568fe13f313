//! Arbitrary bytes through the delta segment reader (`revkeeper_formats::delta`): it must never
//! panic, and whatever it accepts must encode back to the same bytes and decode to the same
//! segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::delta::{Segment, peek_header};

fuzz_target!(|data: &[u8]| {
    let _ = peek_header(data);
    if let Ok(segment) = Segment::decode(data) {
        let again = segment.encode();
        assert_eq!(again, data, "a segment re-encodes to its own bytes");
        assert_eq!(Segment::decode(&again).as_ref(), Ok(&segment));
    }
});
