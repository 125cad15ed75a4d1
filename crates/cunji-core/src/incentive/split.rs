//! Splitting a pool among people in whole fen: largest remainders, with per-person caps filled like
//! water (SPEC §6 step 7).

/// Splits `total` fen in proportion to `weights` (all > 0, in person-id order): floor each share, then
/// hand the leftover fen one by one to the largest fractional remainders, ties to the earlier person.
pub fn largest_remainder(total: i64, weights: &[u128]) -> Vec<i64> {
    let sum: u128 = weights.iter().sum();
    if weights.is_empty() || sum == 0 {
        return vec![0; weights.len()];
    }
    let t = total.max(0) as u128;
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let num = t * w;
        shares.push((num / sum) as i64);
        remainders.push((num % sum, i));
    }
    let handed: i64 = shares.iter().sum();
    let mut leftover = t as i64 - handed;
    // Largest remainder first; equal remainders keep person-id order (the sort is stable).
    remainders.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (_, i) in remainders {
        if leftover == 0 {
            break;
        }
        shares[i] += 1;
        leftover -= 1;
    }
    shares
}

/// The outcome of a capped split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CappedSplit {
    pub shares: Vec<i64>,
    /// Which people ended fixed at their cap.
    pub capped: Vec<bool>,
    pub unallocated: i64,
}

/// Splits `pool` by `weights`; a person whose share is over their cap is fixed at the cap and the rest
/// is split among the others again, until no share is over its cap. What no one may take is unallocated.
pub fn split_with_caps(pool: i64, weights: &[u128], caps: &[Option<i64>]) -> CappedSplit {
    let n = weights.len();
    let mut shares = vec![0i64; n];
    let mut capped = vec![false; n];
    let mut active: Vec<usize> = (0..n).collect();
    let mut remaining = pool;
    while !active.is_empty() {
        let w: Vec<u128> = active.iter().map(|i| weights[*i]).collect();
        let trial = largest_remainder(remaining, &w);
        let over: Vec<usize> = active
            .iter()
            .zip(&trial)
            .filter(|(i, s)| matches!(caps[**i], Some(c) if **s > c))
            .map(|(i, _)| *i)
            .collect();
        if over.is_empty() {
            for (i, s) in active.iter().zip(trial) {
                shares[*i] = s;
            }
            remaining = 0;
            break;
        }
        for i in over {
            let c = caps[i].unwrap_or(0);
            shares[i] = c;
            capped[i] = true;
            remaining -= c;
            active.retain(|a| *a != i);
        }
    }
    CappedSplit {
        shares,
        capped,
        unallocated: remaining,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftover_fen_go_to_largest_remainders() {
        assert_eq!(largest_remainder(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(
            largest_remainder(2_085_939, &[1, 1]),
            vec![1_042_970, 1_042_969]
        );
        assert_eq!(largest_remainder(10, &[1, 2]), vec![3, 7]);
        assert_eq!(largest_remainder(0, &[1, 2]), vec![0, 0]);
    }

    #[test]
    fn caps_fill_like_water() {
        // 5,000 yuan: a secretary (weight 3, capped at 30%) and a member (weight 2).
        let s = split_with_caps(500_000, &[3, 2], &[Some(150_000), None]);
        assert_eq!(s.shares, vec![150_000, 350_000]);
        assert_eq!(s.unallocated, 0);
        // Everyone capped: the rest stays unallocated.
        let s = split_with_caps(500_000, &[1], &[Some(150_000)]);
        assert_eq!(s.shares, vec![150_000]);
        assert_eq!(s.unallocated, 350_000);
        // A second round can push another person over the cap.
        let s = split_with_caps(1000, &[10, 5, 1], &[Some(300), Some(300), None]);
        assert_eq!(s.shares, vec![300, 300, 400]);
    }
}
