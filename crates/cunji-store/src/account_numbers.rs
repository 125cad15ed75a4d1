//! The numbers accounts are stored as, in entries and entry facts: positions in one list, which may
//! only grow at its end (migrations 0005 and 0006 write the same numbers, and 0006 keeps the list
//! as the `accounts` table for SQL that wants the keys).

use cunji_core::account::Account;

const KEYS: [&str; 12] = [
    "operating_revenue",
    "contracting_income",
    "investment_income",
    "subsidy_income",
    "other_income",
    "agri_tax_refund",
    "operating_cost",
    "taxes_and_surcharges",
    "admin_expense",
    "public_welfare_expense",
    "other_expense",
    "income_tax",
];

/// The stored number of an account.
pub(crate) fn number(a: Account) -> u8 {
    KEYS.iter()
        .position(|k| *k == a.key())
        .expect("every account has a stored number") as u8
}

/// The account a stored number names.
pub(crate) fn account(number: i64) -> Option<Account> {
    usize::try_from(number)
        .ok()
        .and_then(|i| KEYS.get(i))
        .and_then(|k| Account::from_key_or_name(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_has_a_number_that_reads_back() {
        for a in Account::ALL {
            assert_eq!(KEYS[number(a) as usize], a.key());
            assert_eq!(account(number(a) as i64), Some(a));
        }
        assert_eq!(account(12), None);
        assert_eq!(account(-1), None);
    }

    /// The migration's `accounts` table lists the same numbers.
    #[test]
    fn the_migration_lists_the_same_numbers() {
        let sql = include_str!("../migrations/sqlite/0006_lean_entries.sql");
        for (i, k) in KEYS.iter().enumerate() {
            assert!(sql.contains(&format!("({i}, '{k}')")), "{k}");
        }
        let pg = include_str!("../migrations/postgres/0006_lean_entries.sql");
        for (i, k) in KEYS.iter().enumerate() {
            assert!(pg.contains(&format!("({i}, '{k}')")), "{k}");
            assert!(pg.contains(&format!("WHEN '{k}' THEN {i}")), "{k}");
        }
    }
}
