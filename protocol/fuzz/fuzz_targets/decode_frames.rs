//! Any text the network delivers: decoding never panics, errors stay
//! short, and whatever decodes re-encodes to something that decodes to the
//! same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use room_protocol::{decode_client_frame, decode_server_frame, encode, DecodeError};

fn check_error(error: &DecodeError) {
    let detail = match error {
        DecodeError::Malformed(d) | DecodeError::UnknownType(d) => d,
        _ => return,
    };
    assert!(
        detail.chars().count() <= 161,
        "an error detail grew to {} chars",
        detail.chars().count()
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode_client_frame(text) {
        Ok(frame) => {
            let again =
                decode_client_frame(&encode(&frame)).expect("a re-encoded client frame decodes");
            assert_eq!(again, frame);
        }
        Err(e) => check_error(&e),
    }
    match decode_server_frame(text) {
        Ok(frame) => {
            let again =
                decode_server_frame(&encode(&frame)).expect("a re-encoded server frame decodes");
            // f64 fields (ping's t) may not survive NaN-free JSON exactly;
            // everything else must.
            if !text.contains("\"t\"") {
                assert_eq!(again, frame);
            }
        }
        Err(e) => check_error(&e),
    }
});
