//! Randomness, in one place: the page's random source, and the one rule
//! every id the client mints follows (the tab's client id, the browser's
//! person id, a new client id after the hub's 4409, a token request's
//! nonce).

/// 52 random bits, as many as one draw of the page's `Math.random()`
/// holds. Not for secrets: ids and seeds that only need to differ.
#[cfg(target_arch = "wasm32")]
pub(crate) fn random_bits() -> u64 {
    (js_sys::Math::random() * TWO_TO_THE_52) as u64
}

/// 2^52: a draw in [0, 1) scaled to 52 bits.
pub(crate) const TWO_TO_THE_52: f64 = 4_503_599_627_370_496.0;

/// A new id nobody guesses at: two draws of `draw` (52 bits each) in hex,
/// 104 bits in all, at most 26 characters: always a valid id for the hub
/// ([`room_protocol::is_valid_id`]).
pub(crate) fn mint_id(mut draw: impl FnMut() -> u64) -> String {
    let first = draw();
    format!("{first:x}{:x}", draw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_both_draws_in_hex_and_valid_for_the_hub() {
        let mut draws = [0xabc_u64, 0x1f].into_iter();
        assert_eq!(mint_id(|| draws.next().unwrap()), "abc1f");
        let largest = mint_id(|| (1 << 52) - 1);
        assert_eq!(largest.len(), 26);
        assert!(room_protocol::is_valid_id(&largest));
    }
}
