//! Minimum and maximum for hot loops over coordinates that are known not to be NaN.
//!
//! `f64::min` and `f64::max` return the other operand when one is NaN, which costs three or
//! four instructions per call on x86-64; these compile to one (`minsd`/`maxsd`). Inputs reach
//! the core validated (finite coordinates), so in the kernels both forms give the same value.
//! With a NaN operand, [`lo`] and [`hi`] return `b`.

/// The lesser of `a` and `b`, for numbers that are not NaN.
#[inline(always)]
pub(crate) fn lo(a: f64, b: f64) -> f64 {
    if a < b {
        a
    } else {
        b
    }
}

/// The greater of `a` and `b`, for numbers that are not NaN.
#[inline(always)]
pub(crate) fn hi(a: f64, b: f64) -> f64 {
    if a > b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_std_on_numbers() {
        let mut rng = crate::rng::SplitMix64::new(3);
        let special = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ];
        for i in 0..10_000 {
            let (a, b) = if i < 49 {
                (special[i % 7], special[i / 7])
            } else {
                (rng.range(-1e6, 1e6), rng.range(-1e6, 1e6))
            };
            // Equal values (including 0.0 and -0.0) may come back from either side.
            assert!(lo(a, b) == a.min(b) && hi(a, b) == a.max(b), "{a} {b}");
        }
    }
}
