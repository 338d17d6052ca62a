//! Minimum and maximum for hot loops over coordinates that are known not to be NaN, and
//! `floor` and `round` to an integer without a library call (the default x86-64 target has no
//! rounding instruction, so `f64::floor` and `f64::round` are calls into libm).
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

/// `v.floor() as i64`, exactly (saturating, NaN to 0), without a call into libm.
#[inline(always)]
pub fn floor_i64(v: f64) -> i64 {
    let t = v as i64;
    if v < t as f64 {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// `x.round() as i64` (half away from zero) for |x| < 9e18, without a call into libm: the
/// fraction left by truncation is exact.
#[inline(always)]
pub fn round_i64(x: f64) -> i64 {
    let t = x as i64;
    let frac = x - t as f64;
    if frac >= 0.5 {
        t + 1
    } else if frac <= -0.5 {
        t - 1
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_agrees_with_std() {
        let mut rng = crate::rng::SplitMix64::new(11);
        let special = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            -1.0,
            1.0,
            -1.5,
            2.0f64.powi(52) + 0.5,
            -(2.0f64.powi(53)),
            9.3e18,
            -9.3e18,
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            i64::MAX as f64,
            i64::MIN as f64,
        ];
        let randoms = (0..100_000).map(|i| {
            let scale = [1.0, 1e3, 1e7, 1e15][i % 4];
            rng.range(-scale, scale)
        });
        for v in special.into_iter().chain(randoms) {
            assert_eq!(floor_i64(v), v.floor() as i64, "{v}");
        }
    }

    #[test]
    fn rounding_agrees_with_std() {
        let mut rng = crate::rng::SplitMix64::new(13);
        let special = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4503599627370495.5,
            -4503599627370495.5,
            4503599627370497.0,
            8.9e18,
            -8.9e18,
        ];
        let randoms = (0..100_000).map(|i| {
            let scale = [1.0, 1e3, 1e9, 1e16, 8e18][i % 5];
            let v = rng.range(-scale, scale);
            // Exact halves as well.
            if i % 7 == 0 {
                (v * 2.0).trunc() / 2.0
            } else {
                v
            }
        });
        for x in special.into_iter().chain(randoms) {
            assert_eq!(round_i64(x), x.round() as i64, "{x}");
        }
    }

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
