//! Pass-through (过账): income matched soon after by an expense or a negative entry of the same
//! amount, found in O(n log n).

use super::EntryFact;
use crate::account::Account;
use crate::money::Fen;

/// The amount an entry can answer as the other half of a pass-through: an expense of a positive
/// amount answers an income of that amount, a negative entry of any account answers an income of
/// the opposite amount. A formal reversal answers nothing (a documented correction).
fn answers(x: &EntryFact) -> Option<Fen> {
    answer_of(x.account, x.amount, x.reverses.is_some())
}

/// `answers`, from an entry's account, amount and whether it is a formal reversal.
pub(super) fn answer_of(account: Account, amount: Fen, reversal: bool) -> Option<Fen> {
    if reversal {
        return None;
    }
    if amount.is_negative() {
        amount.checked_neg()
    } else if amount.is_positive() && !account.is_income() {
        Some(amount)
    } else {
        None
    }
}

/// Pass-through pairs `(income, answer)` as entry indexes: each positive income entry, in entry order,
/// takes the earliest-listed unused answer of its amount dated 0 to `window` days after it.
///
/// Why not a double loop: that compared every entry with every other, and one village of 1,000,000
/// entries held a server worker for over 15 minutes. Answers are sorted by (amount, day) once, and a
/// tree of the smallest unused entry index over that order finds each income's answer in O(log n),
/// with the same pairs as the double loop (tested against it below).
pub fn pass_through_pairs(entries: &[EntryFact], window: i64) -> Vec<(usize, usize)> {
    if !any_amount_answered(entries) {
        return Vec::new();
    }
    let mut answers: Vec<(Fen, i64, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(j, x)| answers(x).map(|a| (a, x.date.day_number(), j)))
        .collect();
    answers.sort_unstable();
    let mut tree = MinTree::new(answers.iter().map(|a| a.2));
    let mut pairs = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !(e.account.is_income() && e.amount.is_positive()) {
            continue;
        }
        let start = e.date.day_number();
        let end = start.saturating_add(window);
        let lo = answers.partition_point(|a| (a.0, a.1) < (e.amount, start));
        let hi = answers.partition_point(|a| (a.0, a.1) <= (e.amount, end));
        if let Some(pos) = tree.take_min(lo, hi) {
            pairs.push((i, answers[pos].2));
        }
    }
    pairs
}

/// Whether some positive income's amount is among the answers' amounts. Most villages have no
/// pair at all (Hebei 2024: 1,544 of 48,379), and building the search for them was as much of a
/// province's report as reading its entries (`perf`); a 1,024-bit filter of the amounts still let
/// nine villages in ten through (48 answers and 48 incomes a village), so the amounts are compared
/// exactly.
pub(super) fn any_amount_answered(entries: &[EntryFact]) -> bool {
    let incomes = entries
        .iter()
        .filter(|e| e.account.is_income() && e.amount.is_positive())
        .map(|e| e.amount);
    any_answered(entries.iter().filter_map(answers).collect(), incomes)
}

/// Whether one of `incomes` is among `answers` (the check of `any_amount_answered`, shared with
/// the kept sums).
pub(super) fn any_answered(mut answers: Vec<Fen>, mut incomes: impl Iterator<Item = Fen>) -> bool {
    if answers.is_empty() {
        return false;
    }
    answers.sort_unstable();
    incomes.any(|a| answers.binary_search(&a).is_ok())
}

/// The smallest value over a range of positions, with values taken away one at a time
/// (an iterative segment tree: `O(log n)` a query and a removal).
struct MinTree {
    n: usize,
    /// `(value, position)`; `usize::MAX` marks a value taken.
    t: Vec<(usize, usize)>,
}

impl MinTree {
    fn new(values: impl ExactSizeIterator<Item = usize>) -> MinTree {
        let n = values.len();
        let mut t = vec![(usize::MAX, usize::MAX); 2 * n];
        for (p, v) in values.enumerate() {
            t[n + p] = (v, p);
        }
        for i in (1..n).rev() {
            t[i] = t[2 * i].min(t[2 * i + 1]);
        }
        MinTree { n, t }
    }

    /// The position of the smallest value in `lo..hi`, taken away; `None` when all are taken.
    fn take_min(&mut self, lo: usize, hi: usize) -> Option<usize> {
        let (mut l, mut r) = (lo + self.n, hi + self.n);
        let mut best = (usize::MAX, usize::MAX);
        while l < r {
            if l & 1 == 1 {
                best = best.min(self.t[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                best = best.min(self.t[r]);
            }
            l /= 2;
            r /= 2;
        }
        if best.0 == usize::MAX {
            return None;
        }
        let mut p = best.1 + self.n;
        self.t[p] = (usize::MAX, usize::MAX);
        while p > 1 {
            p /= 2;
            self.t[p] = self.t[2 * p].min(self.t[2 * p + 1]);
        }
        Some(best.1)
    }
}
