//! Fractional-index positions: strings that sort in playlist order, with room between any
//! two for another. A playlist reads its entries sorted by `(pos, entry id)`; a reorder
//! rewrites one entry's `pos` and touches nothing else, so concurrent reorders of
//! different entries merge, and a string never runs out of precision the way a float does
//! after ~50 inserts into one gap.
//!
//! A position is a base-62 fraction (digits `0-9A-Za-z`, in ASCII order, so byte order is
//! numeric order) that never ends in `0`: then there is always a string between two
//! positions, and none below the empty string is needed.

/// The digits, in ascending order (ASCII order matches numeric order).
const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u8 = 62;

fn digit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

/// Whether `pos` is a well-formed position (non-empty, base-62 digits, not ending in `0`).
/// Documents written by other clients are read with whatever `pos` they hold; a malformed
/// one still sorts, by its bytes.
pub fn is_valid(pos: &str) -> bool {
    !pos.is_empty() && pos.bytes().all(|c| digit_value(c).is_some()) && !pos.ends_with('0')
}

/// A source of randomness for the jitter: concurrent inserts into the same gap on two
/// devices then rarely pick the same position (and when they do, the entry id breaks the
/// tie, so the order is still total and the same everywhere).
pub trait Jitter {
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u8) -> u8;
}

/// Jitter from the operating system's random source, seeded once.
#[derive(Debug)]
pub struct RandomJitter(fastrand::Rng);

impl Default for RandomJitter {
    fn default() -> Self {
        RandomJitter(fastrand::Rng::new())
    }
}

impl RandomJitter {
    /// Repeatable jitter, for tests.
    pub fn seeded(seed: u64) -> Self {
        RandomJitter(fastrand::Rng::with_seed(seed))
    }
}

impl Jitter for RandomJitter {
    fn below(&mut self, n: u8) -> u8 {
        self.0.u8(0..n.max(1))
    }
}

/// A position strictly between `before` and `after` (`None`: the start or the end of the
/// list). If `before >= after` (a concurrent edit left two entries out of order, or a
/// malformed position), the result is just after `before`.
pub fn between(before: Option<&str>, after: Option<&str>, jitter: &mut impl Jitter) -> String {
    let lo: Vec<u8> = before.map(digits).unwrap_or_default();
    let hi: Option<Vec<u8>> = after.map(digits).filter(|hi| hi.as_slice() > lo.as_slice());
    let out = midpoint(&lo, hi.as_deref(), jitter);
    out.into_iter()
        .map(|d| DIGITS[usize::from(d)] as char)
        .collect()
}

/// `count` positions in order, all between `before` and `after`, for a batch insert. The
/// gap is bisected (the middle position first, then each half), so a batch of n costs
/// positions of about log62(n) digits rather than growing one by one.
pub fn many_between(
    before: Option<&str>,
    after: Option<&str>,
    count: usize,
    jitter: &mut impl Jitter,
) -> Vec<String> {
    let mut out = vec![String::new(); count];
    fill_between(before, after, &mut out, jitter);
    out
}

fn fill_between(
    before: Option<&str>,
    after: Option<&str>,
    out: &mut [String],
    jitter: &mut impl Jitter,
) {
    if out.is_empty() {
        return;
    }
    let mid = out.len() / 2;
    let pos = between(before, after, jitter);
    let (left, right) = out.split_at_mut(mid);
    let (middle, right) = right.split_at_mut(1);
    fill_between(before, Some(&pos), left, jitter);
    fill_between(Some(&pos), after, right, jitter);
    middle[0] = pos;
}

/// The digits of a position; a byte that is not a digit reads as the nearest digit below
/// it, so a malformed position from elsewhere still gets a neighbour.
fn digits(pos: &str) -> Vec<u8> {
    let mut out: Vec<u8> = pos
        .bytes()
        .map(|c| {
            digit_value(c).unwrap_or(match c {
                0..=b'/' => 0,
                b':'..=b'@' => 9,
                b'['..=b'`' => 35,
                _ => BASE - 1,
            })
        })
        .collect();
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// Digits strictly between the fractions `lo` and `hi` (`None`: 1.0), not ending in 0.
/// Requires `lo < hi`.
fn midpoint(lo: &[u8], hi: Option<&[u8]>, jitter: &mut impl Jitter) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    // Digits shared by both ends are part of every string between them.
    if let Some(hi) = hi {
        while i < hi.len() && lo.get(i).copied().unwrap_or(0) == hi[i] {
            out.push(hi[i]);
            i += 1;
        }
    }
    // Appending (no upper end at all) steps a little past `lo`, leaving room for the
    // next append; anywhere else the new digit falls anywhere in the gap, so repeated
    // inserts into one gap shrink it geometrically and positions grow by a digit per few
    // inserts.
    let appending = hi.is_none();
    let mut hi = hi.map(|h| &h[i..]);
    let mut lo = lo.get(i..).unwrap_or(&[]);
    loop {
        let l = lo.first().copied().unwrap_or(0);
        let h = hi.and_then(|h| h.first().copied()).unwrap_or(BASE);
        if h > l + 1 {
            let room = h - l - 1;
            let step = if appending { room.min(4) } else { room };
            out.push(l + 1 + jitter.below(step));
            return out;
        }
        // `h == l + 1`: no digit fits between. If `hi` goes on after this digit, its
        // first digit alone is already between (it is above `lo`, below `hi`).
        if let Some(rest) = hi {
            if rest.len() > 1 {
                out.push(h);
                return out;
            }
        }
        // Otherwise keep `lo`'s digit and look for room after it, with no upper end.
        out.push(l);
        lo = lo.get(1..).unwrap_or(&[]);
        hi = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_sort_between_their_neighbours() {
        let mut j = RandomJitter::seeded(7);
        let a = between(None, None, &mut j);
        let b = between(Some(&a), None, &mut j);
        let mid = between(Some(&a), Some(&b), &mut j);
        let first = between(None, Some(&a), &mut j);
        assert!(first < a && a < mid && mid < b, "{first} {a} {mid} {b}");
        for p in [&a, &b, &mid, &first] {
            assert!(is_valid(p), "{p}");
        }
    }

    #[test]
    fn a_thousand_inserts_into_one_gap_stay_ordered() {
        let mut j = RandomJitter::seeded(1);
        let (lo, hi) = ("V".to_owned(), "W".to_owned());
        // Always just after `lo`: the worst case for a float.
        let mut upper = hi.clone();
        for _ in 0..1000 {
            let p = between(Some(&lo), Some(&upper), &mut j);
            assert!(
                lo.as_str() < p.as_str() && p < upper,
                "{lo} < {p} < {upper}"
            );
            assert!(is_valid(&p));
            upper = p;
        }
        assert!(upper.len() < 400, "positions grow slowly: {}", upper.len());
    }

    #[test]
    fn adjacent_positions_still_have_room() {
        let mut j = RandomJitter::seeded(3);
        for (lo, hi) in [
            ("1", "2"),
            ("1z", "2"),
            ("1", "11"),
            ("zz", "zz1"),
            ("0001", "0002"),
        ] {
            let p = between(Some(lo), Some(hi), &mut j);
            assert!(lo < p.as_str() && p.as_str() < hi, "{lo} < {p} < {hi}");
            assert!(is_valid(&p), "{p}");
        }
    }

    #[test]
    fn a_batch_gets_short_ordered_positions() {
        let mut j = RandomJitter::seeded(5);
        let all = many_between(None, None, 10_000, &mut j);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(all.iter().all(|p| is_valid(p)));
        let longest = all.iter().map(String::len).max().unwrap_or(0);
        assert!(longest <= 12, "{longest}");
        let inside = many_between(Some(&all[10]), Some(&all[11]), 500, &mut j);
        assert!(inside.windows(2).all(|w| w[0] < w[1]));
        assert!(all[10] < inside[0] && inside[499] < all[11]);
    }

    #[test]
    fn single_appends_grow_slowly() {
        let mut j = RandomJitter::seeded(6);
        let mut last: Option<String> = None;
        for _ in 0..1000 {
            let next = between(last.as_deref(), None, &mut j);
            assert!(last.as_deref().is_none_or(|l| l < next.as_str()));
            last = Some(next);
        }
        assert!(last.map_or(0, |l| l.len()) < 60);
    }

    #[test]
    fn out_of_order_neighbours_give_a_position_after_the_first() {
        let mut j = RandomJitter::seeded(9);
        let p = between(Some("b"), Some("a"), &mut j);
        assert!(p.as_str() > "b");
        let q = between(Some("b"), Some("b"), &mut j);
        assert!(q.as_str() > "b");
    }

    #[test]
    fn malformed_positions_still_get_neighbours() {
        let mut j = RandomJitter::seeded(11);
        for bad in ["", "0", "a0", "a-b", "9:"] {
            let p = between(Some(bad), None, &mut j);
            assert!(p.as_str() > bad, "{bad:?} -> {p}");
            assert!(is_valid(&p));
        }
        // Above every digit: no position sorts after it, but one is still made.
        for bad in ["é", "~~"] {
            assert!(is_valid(&between(Some(bad), None, &mut j)));
        }
    }
}
