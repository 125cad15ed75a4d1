//! Per village-year account totals, and the figures of a year compared across merges (SPEC §2).

use std::collections::{BTreeMap, BTreeSet};

use crate::account::{AccountTotals, ACCOUNT_COUNT};
use crate::money::Fen;
use crate::region::{RegionCode, RegionSet};

/// One village's books for one year: the sum of every entry on each account, and how many entries
/// there are (a year whose entries cancel out still has data).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct YearBook {
    pub totals: AccountTotals,
    pub entries: u64,
}

/// A year's entries summed per quarter and account (村务公开 at least quarterly, SPEC §15): quarter 1 is
/// January–March. Entries of one village-year are bounded by the books' own bound, so the sums fit.
pub fn by_quarter(facts: &[crate::alerts::EntryFact]) -> [AccountTotals; 4] {
    let mut sums = [[Fen::ZERO; ACCOUNT_COUNT]; 4];
    for f in facts {
        let q = ((f.date.month() - 1) / 3) as usize;
        let sum = &mut sums[q][f.account.index()];
        *sum = sum.saturating_add(f.amount);
    }
    sums
}

impl YearBook {
    pub fn has_data(&self) -> bool {
        self.entries > 0
    }

    fn add(&mut self, other: &YearBook) {
        for i in 0..ACCOUNT_COUNT {
            // A sum past 64 bits (chains of merged villages at the bound) stays at the largest
            // figure; the report's region sums, which are checked, refuse it.
            self.totals[i] = self.totals[i].saturating_add(other.totals[i]);
        }
        self.entries += other.entries;
    }
}

/// One village's books by year, in year order. A report reads two or three years of a village, and
/// a tree for each village (a node has room for eleven books) was a seventh of the memory a
/// province's report touched, each page of it a fault (`perf record -e page-faults`, Hebei 2024).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YearBooks(Vec<(i32, YearBook)>);

impl YearBooks {
    pub fn get(&self, year: i32) -> Option<&YearBook> {
        let at = self.0.binary_search_by_key(&year, |(y, _)| *y).ok()?;
        Some(&self.0[at].1)
    }

    /// The year's book, an empty one put in its place first when there is none.
    pub fn entry(&mut self, year: i32) -> &mut YearBook {
        let at = match self.0.binary_search_by_key(&year, |(y, _)| *y) {
            Ok(at) => at,
            Err(at) => {
                self.0.insert(at, (year, YearBook::default()));
                at
            }
        };
        &mut self.0[at].1
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The years with books, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.0.iter().map(|(y, _)| *y)
    }
}

impl FromIterator<(i32, YearBook)> for YearBooks {
    /// Books of the same year are added together.
    fn from_iter<I: IntoIterator<Item = (i32, YearBook)>>(iter: I) -> Self {
        let mut out = YearBooks::default();
        for (year, book) in iter {
            out.entry(year).add(&book);
        }
        out
    }
}

/// Every village's year books.
#[derive(Clone, Debug, Default)]
pub struct Books {
    by_village: BTreeMap<RegionCode, YearBooks>,
}

impl Books {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds to the book of a village and year (totals loaded from the store come in one per account).
    pub fn add(&mut self, village: &RegionCode, year: i32, book: &YearBook) {
        self.by_village
            .entry(village.clone())
            .or_default()
            .entry(year)
            .add(book);
    }

    /// Adds a village's books of several years at once (a village's kept totals come together
    /// from the store; one lookup of the village instead of one for every account of every year).
    pub fn add_years(&mut self, village: RegionCode, years: YearBooks) {
        let own = self.by_village.entry(village).or_default();
        if own.is_empty() {
            *own = years;
            return;
        }
        for (year, book) in years.0 {
            own.entry(year).add(&book);
        }
    }

    /// The village's own book for the year.
    pub fn own(&self, village: &RegionCode, year: i32) -> Option<&YearBook> {
        self.by_village.get(village)?.get(year)
    }

    pub fn has_own_data(&self, village: &RegionCode, year: i32) -> bool {
        self.own(village, year).is_some_and(|b| b.has_data())
    }

    /// The book of year `t` as compared with year `y` (SPEC §2): for t < merged_in ≤ y the predecessors'
    /// books of t are added in, recursively, so chains of merges add up. `None` without data.
    pub fn compared(
        &self,
        regions: &RegionSet,
        village: &RegionCode,
        t: i32,
        y: i32,
    ) -> Option<YearBook> {
        let mut book = YearBook::default();
        self.collect_compared(regions, village, t, y, &mut book, 0);
        book.has_data().then_some(book)
    }

    fn collect_compared(
        &self,
        regions: &RegionSet,
        village: &RegionCode,
        t: i32,
        y: i32,
        into: &mut YearBook,
        depth: usize,
    ) {
        if let Some(b) = self.own(village, t) {
            into.add(b);
        }
        // The merge graph is acyclic (checked on import); the depth bound only guards against misuse.
        if depth > 64 {
            return;
        }
        if let Some(r) = regions.get(village) {
            if let Some(merged_in) = r.merged_in {
                if t < merged_in && merged_in <= y {
                    for p in &r.predecessors {
                        self.collect_compared(regions, p, t, y, into, depth + 1);
                    }
                }
            }
        }
    }

    /// The years before `y` in which the village or any of its predecessors has books.
    pub fn earlier_years(
        &self,
        regions: &RegionSet,
        village: &RegionCode,
        y: i32,
    ) -> BTreeSet<i32> {
        let mut years = BTreeSet::new();
        let mut all = regions.all_predecessors(village);
        all.push(village.clone());
        for v in all {
            if let Some(m) = self.by_village.get(&v) {
                years.extend(m.years().take_while(|t| *t < y));
            }
        }
        years
    }
}

/// The year a county's views open on (issue #33): the latest year that most of its `villages` have
/// reported (books of their own) or closed. Every January a few villages book the new year first; a
/// view opening on that year would show nearly every village missing. `reported` holds, per year,
/// how many villages reported or closed it. Without a year past half, the latest year with any.
pub fn opening_year(reported: &[(i32, usize)], villages: usize) -> Option<i32> {
    let most = reported
        .iter()
        .filter(|(_, n)| *n * 2 > villages)
        .map(|(y, _)| *y)
        .max();
    most.or_else(|| {
        reported
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(y, _)| *y)
            .max()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::Region;

    #[test]
    fn views_open_on_the_latest_year_most_villages_reported() {
        // January: 4 of 193 villages have booked 2025; 2024 is reported by 190.
        let reported = [(2023, 193), (2024, 190), (2025, 4)];
        assert_eq!(opening_year(&reported, 193), Some(2024));
        // Once 97 of 193 have reported 2025 (more than half), it opens on 2025; 96 is not more.
        assert_eq!(opening_year(&[(2024, 193), (2025, 97)], 193), Some(2025));
        assert_eq!(opening_year(&[(2024, 193), (2025, 96)], 193), Some(2024));
        // A new county with little data: the latest year with any.
        assert_eq!(opening_year(&[(2024, 3), (2025, 1)], 100), Some(2025));
        assert_eq!(opening_year(&[], 100), None);
    }

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    fn book(v: i64) -> YearBook {
        let mut b = YearBook::default();
        b.totals[0] = Fen::from_fen(v);
        b.entries = 1;
        b
    }

    /// A village's years added at once equal the same books added one by one, whether or not the
    /// village had books already.
    #[test]
    fn years_added_at_once_equal_books_added_one_by_one() {
        let v = code("110101001001");
        let mut one_by_one = Books::new();
        let mut at_once = Books::new();
        one_by_one.add(&v, 2023, &book(5));
        at_once.add(&v, 2023, &book(5));
        let pairs = [(2024, book(-2)), (2023, book(7)), (2024, book(1))];
        let years: YearBooks = pairs.into_iter().collect();
        assert_eq!(years.years().collect::<Vec<_>>(), [2023, 2024]);
        for (y, b) in &pairs {
            one_by_one.add(&v, *y, b);
        }
        at_once.add_years(v.clone(), years.clone());
        let w = code("110101001002");
        for (y, b) in &pairs {
            one_by_one.add(&w, *y, b);
        }
        at_once.add_years(w.clone(), years);
        for (village, year) in [(&v, 2023), (&v, 2024), (&w, 2023), (&w, 2024)] {
            assert_eq!(one_by_one.own(village, year), at_once.own(village, year));
        }
        assert_eq!(at_once.own(&v, 2023).unwrap().totals[0], Fen::from_fen(12));
        assert_eq!(at_once.own(&v, 2023).unwrap().entries, 2);
        assert_eq!(at_once.own(&w, 2024).unwrap().totals[0], Fen::from_fen(-1));
        assert_eq!(at_once.own(&w, 2024).unwrap().entries, 2);
    }

    #[test]
    fn chains_of_merges_add_up() {
        let mut regions = RegionSet::new();
        for c in ["110101001001", "110101001002", "110101001003"] {
            regions.insert(Region {
                code: code(c),
                name: c.into(),
                predecessors: vec![],
                merged_in: None,
            });
        }
        // 001 merged into 002 in 2021; 002 merged into 003 in 2023.
        regions.insert(Region {
            code: code("110101001002"),
            name: "b".into(),
            predecessors: vec![code("110101001001")],
            merged_in: Some(2021),
        });
        regions.insert(Region {
            code: code("110101001003"),
            name: "c".into(),
            predecessors: vec![code("110101001002")],
            merged_in: Some(2023),
        });
        assert!(regions.check_merges().is_empty());
        let mut books = Books::new();
        books.add(&code("110101001001"), 2020, &book(1));
        books.add(&code("110101001002"), 2020, &book(10));
        books.add(&code("110101001003"), 2020, &book(100));
        books.add(&code("110101001002"), 2022, &book(1000));
        let c3 = code("110101001003");
        assert_eq!(
            books.compared(&regions, &c3, 2020, 2023).unwrap().totals[0],
            Fen::from_fen(111)
        );
        assert_eq!(
            books.compared(&regions, &c3, 2022, 2023).unwrap().totals[0],
            Fen::from_fen(1000)
        );
        // Compared with 2022 (before 003's merge), 003 stands alone.
        assert_eq!(
            books.compared(&regions, &c3, 2020, 2022).unwrap().totals[0],
            Fen::from_fen(100)
        );
        assert!(books.compared(&regions, &c3, 2021, 2023).is_none());
        assert_eq!(
            books
                .earlier_years(&regions, &c3, 2024)
                .into_iter()
                .collect::<Vec<_>>(),
            vec![2020, 2022]
        );
    }
}

#[cfg(test)]
mod quarter_tests {
    use super::by_quarter;
    use crate::account::Account;
    use crate::alerts::EntryFact;
    use crate::date::Date;
    use crate::money::Fen;

    #[test]
    fn entries_sum_into_their_quarters() {
        let fact = |d: &str, account, fen| EntryFact {
            date: Date::parse(d).unwrap(),
            account,
            amount: Fen::from_fen(fen),
            voucher: None,
            reverses: None,
        };
        let q = by_quarter(&[
            fact("2024-01-01", Account::OperatingRevenue, 100),
            fact("2024-03-31", Account::OperatingRevenue, 50),
            fact("2024-04-01", Account::OperatingRevenue, 7),
            fact("2024-12-31", Account::AdminExpense, 9),
            fact("2024-12-31", Account::OperatingRevenue, -1),
        ]);
        let rev = Account::OperatingRevenue.index();
        let got: Vec<i64> = q.iter().map(|t| t[rev].fen()).collect();
        assert_eq!(got, [150, 7, 0, -1]);
        assert_eq!(q[3][Account::AdminExpense.index()], Fen::from_fen(9));
    }
}
