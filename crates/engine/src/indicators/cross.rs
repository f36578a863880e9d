//! Crossovers of two series, decided from their exact ordering.

use std::cmp::Ordering;

/// Tracks the relation of two series bar by bar and reports strict
/// crossovers: the previous bar strictly below and the current strictly
/// above (backtesting.py's rule; a touch-and-go through equality is not a
/// cross, and vectorbt, which fires on equal→above, can differ at exact ties).
#[derive(Debug, Clone, Copy, Default)]
pub struct Relation {
    prev: Option<Ordering>,
}

/// Result of [`Relation::update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cross {
    /// `a` crossed above `b`.
    Above,
    /// `a` crossed below `b`.
    Below,
    /// No crossover this bar.
    None,
}

impl Relation {
    /// Records this bar's ordering of `a` vs `b` and reports a crossover.
    #[inline]
    pub fn update(&mut self, now: Ordering) -> Cross {
        let cross = match (self.prev, now) {
            (Some(Ordering::Less), Ordering::Greater) => Cross::Above,
            (Some(Ordering::Greater), Ordering::Less) => Cross::Below,
            _ => Cross::None,
        };
        self.prev = Some(now);
        cross
    }

    /// Forgets the previous bar (a series became undefined).
    #[inline]
    pub fn reset(&mut self) {
        self.prev = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossover_needs_strict_below_then_strict_above() {
        let mut r = Relation::default();
        assert_eq!(r.update(Ordering::Less), Cross::None);
        assert_eq!(r.update(Ordering::Equal), Cross::None);
        assert_eq!(
            r.update(Ordering::Greater),
            Cross::None,
            "equal -> above is not a cross"
        );
        assert_eq!(r.update(Ordering::Less), Cross::Below);
        assert_eq!(r.update(Ordering::Greater), Cross::Above);
    }
}
