//! [`quietly`]: runs code that is not ours on hostile input and turns a panic inside it into an error
//! message, without the panic's text or backtrace reaching stderr (the process's default panic hook
//! stays in place for every other panic, which is a bug worth its backtrace).

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`quietly`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Runs `f`; a panic inside it is returned as `Err(its message)` and logged, with where it happened, at
/// debug level only. Panics on other threads, and outside `f` on this one, print as before.
pub fn quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                tracing::debug!("caught a panic: {info}");
            } else {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_the_flag_is_restored() {
        assert_eq!(quietly(|| 7), Ok(7));
        let err = quietly(|| -> u8 { panic!("bad {}", "input") }).unwrap_err();
        assert_eq!(err, "bad input");
        // Nested: the outer section is still quiet after the inner one ends.
        let outer = quietly(|| {
            let inner = quietly(|| -> u8 { panic!("inner") });
            assert!(inner.is_err());
            assert!(QUIET.with(Cell::get));
            panic!("outer")
        });
        assert_eq!(outer.unwrap_err(), "outer");
        assert!(!QUIET.with(Cell::get));
    }
}
