//! Measures (口径): signed sums of account totals (SPEC §4).

use crate::account::{Account, AccountTotals, ACCOUNT_COUNT};
use crate::money::{Fen, FenSum};

/// A measure: a coefficient of −1, 0 or 1 for each account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measure {
    pub key: String,
    pub name: String,
    pub coefficients: [i8; ACCOUNT_COUNT],
}

pub const STANDARD_KEYS: [&str; 4] = [
    "total_income",
    "operating_income",
    "operating_profit",
    "net_income",
];

impl Measure {
    pub fn new(key: &str, name: &str, terms: &[(Account, i8)]) -> Measure {
        let mut coefficients = [0i8; ACCOUNT_COUNT];
        for (a, c) in terms {
            coefficients[a.index()] = *c;
        }
        Measure {
            key: key.into(),
            name: name.into(),
            coefficients,
        }
    }

    /// The four standard measures, in the order reports list them.
    pub fn standard() -> Vec<Measure> {
        use Account::*;
        let operating = [OperatingRevenue, ContractingIncome, InvestmentIncome];
        let total: Vec<(Account, i8)> = Account::ALL
            .iter()
            .filter(|a| a.is_income())
            .map(|a| (*a, 1))
            .collect();
        let op: Vec<(Account, i8)> = operating.iter().map(|a| (*a, 1)).collect();
        let mut profit = op.clone();
        profit.extend([
            (OperatingCost, -1),
            (TaxesAndSurcharges, -1),
            (AdminExpense, -1),
        ]);
        let net: Vec<(Account, i8)> = Account::ALL
            .iter()
            .map(|a| (*a, if a.is_income() { 1 } else { -1 }))
            .collect();
        vec![
            Measure::new("total_income", "总收入", &total),
            Measure::new("operating_income", "经营性收入", &op),
            Measure::new("operating_profit", "经营收益", &profit),
            Measure::new("net_income", "本年收益", &net),
        ]
    }

    /// The standard measures, built once: the alerts of every village read two of them.
    pub fn standard_shared() -> &'static [Measure] {
        static STANDARD: std::sync::LazyLock<Vec<Measure>> =
            std::sync::LazyLock::new(Measure::standard);
        &STANDARD
    }

    pub fn is_standard_key(key: &str) -> bool {
        STANDARD_KEYS.contains(&key)
    }

    pub fn value(&self, totals: &AccountTotals) -> Fen {
        let mut sum = FenSum::ZERO;
        for (i, c) in self.coefficients.iter().enumerate() {
            sum.add_times(totals[i], *c as i64);
        }
        // Stored totals are bounded by MAX_FEN, so twelve of them fit in i64.
        sum.saturated()
    }

    pub fn counts_subsidies(&self) -> bool {
        self.coefficients[Account::SubsidyIncome.index()] != 0
    }

    /// `经营收入 + 发包及上交收入 − 经营支出`, for traces.
    pub fn formula_zh(&self) -> String {
        let mut out = String::new();
        for a in Account::ALL {
            let c = self.coefficients[a.index()];
            if c == 0 {
                continue;
            }
            if out.is_empty() {
                if c < 0 {
                    out.push('−');
                }
            } else {
                out.push_str(if c > 0 { " + " } else { " − " });
            }
            out.push_str(a.name_zh());
        }
        if out.is_empty() {
            out.push('0');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_measures_follow_the_spec() {
        let m = Measure::standard();
        let mut t = [Fen::ZERO; ACCOUNT_COUNT];
        t[Account::OperatingRevenue.index()] = Fen::from_fen(100);
        t[Account::SubsidyIncome.index()] = Fen::from_fen(50);
        t[Account::OperatingCost.index()] = Fen::from_fen(30);
        t[Account::PublicWelfareExpense.index()] = Fen::from_fen(7);
        assert_eq!(m[0].value(&t), Fen::from_fen(150));
        assert_eq!(m[1].value(&t), Fen::from_fen(100));
        assert_eq!(m[2].value(&t), Fen::from_fen(70));
        assert_eq!(m[3].value(&t), Fen::from_fen(113));
        assert!(m[0].counts_subsidies() && !m[1].counts_subsidies());
        assert!(m[3].counts_subsidies() && !m[2].counts_subsidies());
        assert_eq!(m[1].formula_zh(), "经营收入 + 发包及上交收入 + 投资收益");
    }
}
