//! GDAL's and PROJ's errors, in gapmap's words: GDAL prints nothing itself (no raw
//! `ERROR 1: PROJ: ...` lines), and what it said is kept per thread for the message gapmap
//! gives.

use std::sync::Once;

static GDAL_INIT: Once = Once::new();

thread_local! {
    /// The last error or warning GDAL (or PROJ through it) reported on this thread.
    static LAST_GDAL_MESSAGE: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// Silences GDAL's default printing of errors and warnings to stderr (raw `ERROR 1: PROJ: ...`
/// lines): gapmap reports errors itself, with context, and uses GDAL's words
/// ([`take_gdal_message`]) where they say more than the failing call does.
pub(crate) fn init_gdal() {
    GDAL_INIT.call_once(|| {
        gdal::config::set_error_handler(|_, _, msg| {
            LAST_GDAL_MESSAGE.with(|m| *m.borrow_mut() = Some(msg.trim().to_string()));
        });
    });
}

/// Forgets what GDAL last said on this thread (before a call whose failure is to be told).
pub(crate) fn clear_gdal_message() {
    LAST_GDAL_MESSAGE.with(|m| m.borrow_mut().take());
}

/// What GDAL last said on this thread since [`clear_gdal_message`], if anything.
pub(crate) fn take_gdal_message() -> Option<String> {
    LAST_GDAL_MESSAGE
        .with(|m| m.borrow_mut().take())
        .filter(|s| !s.is_empty())
}

/// GDAL's reason for a failure: its own words when it logged any, else the failing call's
/// message, else (neither says anything) `fallback`.
pub(crate) fn gdal_reason(call_error: &str, fallback: &str) -> String {
    let call = clean_gdal_message(call_error);
    match take_gdal_message() {
        Some(m) => m,
        None if call.is_empty() || call == "''" => fallback.to_string(),
        None => call,
    }
}

/// GDAL messages sometimes carry the C function name; keep the human part.
pub(crate) fn clean_gdal_message(m: &str) -> String {
    let m = m.trim();
    match m.split_once("msg: ") {
        Some((_, rest)) => rest
            .trim_end_matches(['}', ' ', '"'])
            .trim_matches('"')
            .to_string(),
        None => m.to_string(),
    }
}
