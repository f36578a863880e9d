//! Neighbour stability of a grid's winner: is it on a plateau (nearby
//! parameters do about as well) or a spike (one lucky combination whose
//! neighbours do much worse)? Parameter-stability checks of this kind
//! are the practitioner's complement to the DSR and PBO (see e.g. Pardo,
//! "The Evaluation and Optimization of Trading Strategies", 2008, ch. 11
//! on robust parameter regions).

use serde::{Deserialize, Serialize};

/// Mean fitness ratio from which the winner's neighbourhood is a plateau.
pub const PLATEAU_RATIO: f64 = 0.75;
/// Mean fitness ratio below which the winner is a spike.
pub const SPIKE_RATIO: f64 = 0.5;

/// What the winner's neighbourhood looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Neighbourhood {
    /// The neighbours keep on average ≥ 75 % of the winner's fitness.
    Plateau,
    /// Between 50 % and 75 %.
    Slope,
    /// Below 50 %: the winner stands alone.
    Spike,
}

/// The fitness of the winner's grid neighbours (±1 step on each axis)
/// relative to its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeighbourStability {
    /// Neighbours inside the grid (2 per axis, fewer at its edges).
    pub neighbours: u64,
    /// Of them, with a defined fitness (not skipped by a constraint, not
    /// failed, not undefined).
    pub with_fitness: u64,
    /// The winner's fitness.
    pub winner_fitness: f64,
    /// Mean of neighbour fitness ÷ winner fitness (`null` when the
    /// winner's fitness is not positive or no neighbour has one).
    pub mean_ratio: Option<f64>,
    /// The smallest ratio.
    pub worst_ratio: Option<f64>,
    /// Plateau, slope or spike, from the mean ratio.
    pub shape: Option<Neighbourhood>,
}

/// The stability of combination `winner` of a mixed-radix grid with axis
/// lengths `shape` (the last axis varying fastest, as
/// [`Grid::decode_into`](crate::grid::Grid::decode_into) counts), where
/// `fitness(index)` is a combination's fitness (`None` when it has none).
///
/// # Panics
/// If `winner` is outside the grid.
#[must_use]
pub fn neighbour_stability(
    shape: &[u64],
    winner: u64,
    fitness: impl Fn(u64) -> Option<f64>,
) -> Option<NeighbourStability> {
    let size: u64 = shape.iter().product();
    assert!(
        winner < size,
        "combination {winner} outside a grid of {size}"
    );
    let winner_fitness = fitness(winner).filter(|f| !f.is_nan())?;
    let mut neighbours = 0u64;
    let mut found = Vec::new();
    let mut stride = 1u64;
    for &len in shape.iter().rev() {
        let pos = winner / stride % len;
        if pos > 0 {
            neighbours += 1;
            found.extend(fitness(winner - stride).filter(|f| !f.is_nan()));
        }
        if pos + 1 < len {
            neighbours += 1;
            found.extend(fitness(winner + stride).filter(|f| !f.is_nan()));
        }
        stride *= len;
    }
    let ratios: Vec<f64> = if winner_fitness > 0.0 {
        found.iter().map(|f| f / winner_fitness).collect()
    } else {
        Vec::new()
    };
    let mean_ratio = (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
    let worst_ratio = ratios.iter().copied().reduce(f64::min);
    Some(NeighbourStability {
        neighbours,
        with_fitness: found.len() as u64,
        winner_fitness,
        mean_ratio,
        worst_ratio,
        shape: mean_ratio.map(|m| {
            if m >= PLATEAU_RATIO {
                Neighbourhood::Plateau
            } else if m >= SPIKE_RATIO {
                Neighbourhood::Slope
            } else {
                Neighbourhood::Spike
            }
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5 × 4 grid whose fitness is `table[i]`.
    fn table(peak: f64) -> Vec<f64> {
        let mut t = vec![0.1; 20];
        // winner at (2, 1) = 2·4 + 1 = 9; neighbours 5, 13 (axis 0) and 8, 10 (axis 1)
        t[9] = peak;
        for n in [5, 13, 8, 10] {
            t[n] = 0.9;
        }
        t
    }

    #[test]
    fn a_winner_among_good_neighbours_is_a_plateau() {
        let t = table(1.0);
        let s = neighbour_stability(&[5, 4], 9, |i| Some(t[i as usize])).unwrap();
        assert_eq!((s.neighbours, s.with_fitness), (4, 4));
        assert!((s.mean_ratio.unwrap() - 0.9).abs() < 1e-15);
        assert_eq!(s.shape, Some(Neighbourhood::Plateau));
    }

    #[test]
    fn a_lone_peak_is_a_spike() {
        let t = table(9.0);
        let s = neighbour_stability(&[5, 4], 9, |i| Some(t[i as usize])).unwrap();
        assert!((s.worst_ratio.unwrap() - 0.1).abs() < 1e-15);
        assert_eq!(s.shape, Some(Neighbourhood::Spike));
    }

    #[test]
    fn at_a_corner_and_with_missing_neighbours() {
        // corner (0, 0): neighbours 4 and 1; 1 was skipped by a constraint
        let s = neighbour_stability(&[5, 4], 0, |i| (i != 1).then_some(1.0)).unwrap();
        assert_eq!((s.neighbours, s.with_fitness), (2, 1));
        // a losing winner has no meaningful ratio
        let s = neighbour_stability(&[5, 4], 0, |_| Some(-1.0)).unwrap();
        assert_eq!((s.mean_ratio, s.shape), (None, None));
    }
}
