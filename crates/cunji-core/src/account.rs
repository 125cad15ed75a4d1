//! The income-statement accounts (收益及收益分配表) of both charts (SPEC §3).

/// Income or expense: the account's normal direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Income,
    Expense,
}

/// The chart an account code belongs to; codes are reused across charts (502).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    C2004,
    C2023,
}

impl Chart {
    pub fn parse(text: &str) -> Option<Chart> {
        match text.trim() {
            "2004" => Some(Chart::C2004),
            "2023" => Some(Chart::C2023),
            _ => None,
        }
    }
}

/// An account of the income statement. Adding one: a variant at the end here, its row at the end
/// of `INFO`, its place at the end of [`Account::ALL`], and `ACCOUNT_COUNT` (docs/architecture.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    OperatingRevenue,
    ContractingIncome,
    InvestmentIncome,
    SubsidyIncome,
    OtherIncome,
    AgriTaxRefund,
    OperatingCost,
    TaxesAndSurcharges,
    AdminExpense,
    PublicWelfareExpense,
    OtherExpense,
    IncomeTax,
}

pub const ACCOUNT_COUNT: usize = 12;

struct Info {
    key: &'static str,
    name: &'static str,
    kind: Kind,
    code_2004: Option<&'static str>,
    code_2023: Option<&'static str>,
}

const INFO: [Info; ACCOUNT_COUNT] = [
    info(
        "operating_revenue",
        "经营收入",
        Kind::Income,
        Some("501"),
        Some("501"),
    ),
    info(
        "contracting_income",
        "发包及上交收入",
        Kind::Income,
        Some("511"),
        None,
    ),
    info(
        "investment_income",
        "投资收益",
        Kind::Income,
        Some("561"),
        Some("502"),
    ),
    info(
        "subsidy_income",
        "补助收入",
        Kind::Income,
        Some("522"),
        Some("503"),
    ),
    info(
        "other_income",
        "其他收入",
        Kind::Income,
        Some("531"),
        Some("504"),
    ),
    info(
        "agri_tax_refund",
        "农业税附加返还收入",
        Kind::Income,
        Some("521"),
        None,
    ),
    info(
        "operating_cost",
        "经营支出",
        Kind::Expense,
        Some("502"),
        Some("511"),
    ),
    info(
        "taxes_and_surcharges",
        "税金及附加",
        Kind::Expense,
        None,
        Some("512"),
    ),
    info(
        "admin_expense",
        "管理费用",
        Kind::Expense,
        Some("541"),
        Some("513"),
    ),
    info(
        "public_welfare_expense",
        "公益支出",
        Kind::Expense,
        None,
        Some("514"),
    ),
    info(
        "other_expense",
        "其他支出",
        Kind::Expense,
        Some("551"),
        Some("515"),
    ),
    info("income_tax", "所得税费用", Kind::Expense, None, Some("521")),
];

const fn info(
    key: &'static str,
    name: &'static str,
    kind: Kind,
    code_2004: Option<&'static str>,
    code_2023: Option<&'static str>,
) -> Info {
    Info {
        key,
        name,
        kind,
        code_2004,
        code_2023,
    }
}

impl Account {
    /// Every account, in the order of `INFO`. An account's position here is also the number the
    /// store keeps it under (cunji-store's `account_numbers`), so a new account goes at the end.
    pub const ALL: [Account; ACCOUNT_COUNT] = [
        Account::OperatingRevenue,
        Account::ContractingIncome,
        Account::InvestmentIncome,
        Account::SubsidyIncome,
        Account::OtherIncome,
        Account::AgriTaxRefund,
        Account::OperatingCost,
        Account::TaxesAndSurcharges,
        Account::AdminExpense,
        Account::PublicWelfareExpense,
        Account::OtherExpense,
        Account::IncomeTax,
    ];

    pub fn index(self) -> usize {
        self as usize
    }
    pub fn key(self) -> &'static str {
        INFO[self.index()].key
    }
    pub fn name_zh(self) -> &'static str {
        INFO[self.index()].name
    }
    pub fn kind(self) -> Kind {
        INFO[self.index()].kind
    }
    pub fn is_income(self) -> bool {
        self.kind() == Kind::Income
    }
    pub fn code(self, chart: Chart) -> Option<&'static str> {
        match chart {
            Chart::C2004 => INFO[self.index()].code_2004,
            Chart::C2023 => INFO[self.index()].code_2023,
        }
    }

    /// By key or Chinese name (no chart needed).
    pub fn from_key_or_name(text: &str) -> Option<Account> {
        let t = text.trim();
        Account::ALL
            .into_iter()
            .find(|a| a.key() == t || a.name_zh() == t)
    }

    /// By key, Chinese name, or — only where a chart is named — account code.
    pub fn parse(text: &str, chart: Option<Chart>) -> Result<Account, String> {
        if let Some(a) = Account::from_key_or_name(text) {
            return Ok(a);
        }
        let t = text.trim();
        if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() {
            return match chart {
                None => Err(format!(
                    "科目代码 `{t}` 须同时注明科目体系（chart 列填 2004 或 2023），两套科目的代码不同"
                )),
                Some(c) => Account::ALL
                    .into_iter()
                    .find(|a| a.code(c) == Some(t))
                    .ok_or_else(|| format!("科目代码 `{t}` 不在所选科目体系的收益类科目中")),
            };
        }
        Err(format!("未知科目 `{t}`"))
    }
}

/// Per-account totals of one village and year, in fen, indexed by [`Account::index`].
pub type AccountTotals = [crate::money::Fen; ACCOUNT_COUNT];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_need_a_chart() {
        assert_eq!(Account::parse("经营支出", None), Ok(Account::OperatingCost));
        assert_eq!(
            Account::parse("operating_cost", None),
            Ok(Account::OperatingCost)
        );
        assert!(Account::parse("502", None).is_err());
        assert_eq!(
            Account::parse("502", Some(Chart::C2004)),
            Ok(Account::OperatingCost)
        );
        assert_eq!(
            Account::parse("502", Some(Chart::C2023)),
            Ok(Account::InvestmentIncome)
        );
        assert!(Account::parse("511", Some(Chart::C2023)).is_ok());
        assert!(Account::parse("999", Some(Chart::C2023)).is_err());
        assert!(Account::parse("现金", None).is_err());
        for (i, a) in Account::ALL.iter().enumerate() {
            assert_eq!(a.index(), i);
        }
    }
}
