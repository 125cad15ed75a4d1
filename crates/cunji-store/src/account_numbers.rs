//! The numbers accounts are stored as, in entries and entry facts: an account's position in
//! [`Account::ALL`] ([`Account::index`]), which may only grow at its end. Migrations 0005 and 0006
//! wrote the numbers of the first twelve; 0006 keeps the list as the `accounts` table for SQL that
//! wants the keys, and an account added later is inserted there by its own migration (the test
//! below finds it). The list itself is kept once, in the core (`cunji_core::account`).

use cunji_core::account::Account;

/// The stored number of an account.
pub(crate) fn number(a: Account) -> u8 {
    a.index() as u8
}

/// The account a stored number names.
pub(crate) fn account(number: i64) -> Option<Account> {
    usize::try_from(number)
        .ok()
        .and_then(|i| Account::ALL.get(i))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers written before the list moved to the core: they may never change.
    const STORED: [&str; 12] = [
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

    #[test]
    fn every_account_has_a_number_that_reads_back() {
        for (i, k) in STORED.iter().enumerate() {
            assert_eq!(account(i as i64).map(|a| a.key()), Some(*k));
        }
        for a in Account::ALL {
            assert_eq!(account(number(a) as i64), Some(a));
        }
        assert_eq!(account(Account::ALL.len() as i64), None);
        assert_eq!(account(-1), None);
    }

    /// Every account is a row of the migrations' `accounts` table, under its number, for each backend.
    #[test]
    fn the_migrations_list_the_same_numbers() {
        for migrations in [
            &crate::backend::sqlite::MIGRATIONS[..],
            &crate::backend::postgres::MIGRATIONS[..],
        ] {
            let sql: String = migrations.iter().map(|(_, s)| *s).collect();
            for a in Account::ALL {
                let row = format!("({}, '{}')", number(a), a.key());
                assert!(sql.contains(&row), "{row}");
            }
        }
        let pg = include_str!("../migrations/postgres/0006_lean_entries.sql");
        for (i, k) in STORED.iter().enumerate() {
            assert!(pg.contains(&format!("WHEN '{k}' THEN {i}")), "{k}");
        }
    }
}
