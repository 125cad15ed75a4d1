//! Work split across the cores: a province's villages are independent until their figures are
//! added up, and on two cores the walk over them was most of a report; an import's rows are made
//! and hashed the same way.

/// Items below this many are done on the calling thread (threads cost more than they save).
const PARALLEL_FROM: usize = 1_000;

/// Threads at most, whatever the machine says (each holds its part's results until joined).
const MAX_THREADS: usize = 8;

/// `f` of every item, in the items' order once the parts are joined (each part is one core's run;
/// left apart so that results are moved once more, not twice: a country's village reports are
/// 180 MB).
pub fn map_in_parts<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Vec<R>> {
    if items.len() < PARALLEL_FROM {
        return vec![items.iter().map(f).collect()];
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, MAX_THREADS);
    let per_thread = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(per_thread)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        parts
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order_on_any_number_of_items() {
        for n in [0, 1, 999, 1_000, 1_001, 12_345] {
            let items: Vec<u64> = (0..n).collect();
            let got: Vec<u64> = super::map_in_parts(&items, |x| x * 3 + 1)
                .into_iter()
                .flatten()
                .collect();
            assert_eq!(got, items.iter().map(|x| x * 3 + 1).collect::<Vec<_>>());
        }
    }
}
