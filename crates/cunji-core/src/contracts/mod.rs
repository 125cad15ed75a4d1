//! Contracts (合同) and the asset register (资产资源台账), SPEC §16: what a village is owed for letting its
//! land, buildings and equipment, what it received, and where the two part.
//!
//! An [`Asset`] and a [`Contract`] are made only by their parsing constructors, from a draft whose
//! single fields were already read (dates, amounts, rates): every rule that ties fields together
//! (an end before the start, a step-up without both keys, a yearly rent beside installments, a
//! `02-29` due day) is checked there, so no invalid contract exists and nothing downstream checks
//! again. Errors name the column they belong to, so an importer puts each on its cell.

mod alerts;
mod forecast;
mod schedule;
mod standing;

pub use alerts::{contract_alerts, ContractContext, Peers, ARREARS_DAYS, EXPIRING_DAYS, MIN_PEERS};
pub use forecast::{forecast, Forecast};
pub use schedule::{contract_year, step_once, Due};
pub use standing::{
    contract_trace, report_date, standing, village_year, Overflow, Standing, VillageContracts,
};

use std::collections::BTreeMap;

use crate::account::Account;
use crate::date::Date;
use crate::money::{Fen, FenSum, MAX_FEN};
use crate::rate::Ppm;
use crate::region::RegionCode;

/// Policy settings of `[contracts]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractSettings {
    /// A contract worth at least this over its whole term needs a resolution date (四议两公开).
    pub resolution_threshold: Fen,
}

impl Default for ContractSettings {
    fn default() -> Self {
        ContractSettings {
            resolution_threshold: Fen::from_fen(100_000 * 100),
        }
    }
}

/// A problem with one field of an asset or contract row: the column's key and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub column: &'static str,
    pub message: String,
}

/// Each text longer than the bound every free-text field has (`columns::MAX_TEXT_CHARS`), on its
/// column: the web's forms reach the contract through here as the importers do, so the bound holds
/// for both (issue #32 item 4).
/// The texts of a draft (column, text, and its refusal when it may not be blank): every blank
/// required one refused first, then every one too long, each on its column.
fn texts<const N: usize>(
    errors: &mut Vec<FieldError>,
    texts: [(&'static str, &str, Option<&'static str>); N],
) {
    for (column, text, required) in texts {
        if let (Some(refusal), true) = (required, text.trim().is_empty()) {
            errors.push(field(column, refusal));
        }
    }
    for (column, text, _) in texts {
        if let Err(m) = crate::columns::check_length(text) {
            errors.push(field(column, m));
        }
    }
}

fn field(column: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        column,
        message: message.into(),
    }
}

macro_rules! keyed_enum {
    ($(#[$m:meta])* $name:ident { $($v:ident = $key:literal, $zh:literal;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            pub fn key(self) -> &'static str {
                match self { $($name::$v => $key,)* }
            }
            pub fn name_zh(self) -> &'static str {
                match self { $($name::$v => $zh,)* }
            }
            /// The key or the Chinese name.
            pub fn parse(text: &str) -> Option<$name> {
                let t = text.trim();
                Self::ALL.iter().copied().find(|k| k.key() == t || k.name_zh() == t)
            }
            /// The choices, for an error message: `land/土地、building/房屋建筑物…`.
            pub fn choices() -> String {
                Self::ALL
                    .iter()
                    .map(|k| format!("{}/{}", k.key(), k.name_zh()))
                    .collect::<Vec<_>>()
                    .join("、")
            }
        }
    };
}

keyed_enum!(
    /// The kind of an asset or resource.
    AssetKind {
        Land = "land", "土地";
        Building = "building", "房屋建筑物";
        Facility = "facility", "设施设备";
        Forest = "forest", "林地";
        Water = "water", "水面";
        Other = "other", "其他";
    }
);

keyed_enum!(
    /// What an asset is used for now.
    AssetStatus {
        InUse = "in_use", "自用";
        Let = "let", "出租发包";
        Idle = "idle", "闲置";
        Disposed = "disposed", "已处置";
    }
);

keyed_enum!(
    /// The kind of a contract.
    ContractKind {
        Contracting = "contracting", "发包";
        Lease = "lease", "租赁";
        Cooperation = "cooperation", "合作经营";
        Other = "other", "其他";
    }
);

impl AssetKind {
    /// Resources (land, forest, water) may lack an original value; assets bought or built have one.
    pub fn is_resource(self) -> bool {
        matches!(self, AssetKind::Land | AssetKind::Forest | AssetKind::Water)
    }
}

/// A quantity in hundredths of its unit (亩, 平方米, 台), above 0 and at most 10^9 units. Two
/// decimals and that bound keep the exact comparison of rents per unit (`below_peers`, a product
/// of four such numbers and rents) within `i128`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

/// The largest quantity, in hundredths.
const MAX_QUANTITY: i64 = 100_000_000_000;

impl Quantity {
    /// `12`, `12.5`, `1,200.25`: a positive number with at most two decimals.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let t = text.trim();
        match crate::decimal::parse_scaled(t, 2, true) {
            Ok(v) if v > 0 && v <= MAX_QUANTITY as i128 => Ok(Quantity(v as i64)),
            Ok(v) if v <= 0 => Err(format!("数量应大于 0：`{t}`")),
            Ok(_) | Err(crate::decimal::DecimalError::Overflow) => {
                Err(format!("数量超出范围：`{t}`（至多 10 亿）"))
            }
            Err(_) => Err(format!("数量格式不对：`{t}`（如 12、12.5，至多两位小数）")),
        }
    }

    /// A quantity of `h` hundredths, within the bounds [`Quantity::parse`] keeps (a stored value).
    pub fn from_hundredths(h: i64) -> Option<Quantity> {
        (h > 0 && h <= MAX_QUANTITY).then_some(Quantity(h))
    }

    /// Hundredths of the unit.
    pub fn hundredths(self) -> i64 {
        self.0
    }

    /// `12.5`, `3`.
    pub fn display(self) -> String {
        let (w, f) = (self.0 / 100, self.0 % 100);
        match f {
            0 => w.to_string(),
            f if f % 10 == 0 => format!("{w}.{}", f / 10),
            f => format!("{w}.{f:02}"),
        }
    }
}

/// An asset or resource of a village, made by [`Asset::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    id: String,
    village: RegionCode,
    kind: AssetKind,
    name: String,
    quantity: Quantity,
    unit: String,
    original_value: Option<Fen>,
    acquired: Date,
    grant: Option<String>,
    status: AssetStatus,
}

/// An asset's fields as read from a row, each already parsed on its own.
#[derive(Clone, Debug)]
pub struct AssetDraft {
    pub id: String,
    pub village: RegionCode,
    pub kind: AssetKind,
    pub name: String,
    pub quantity: Quantity,
    pub unit: String,
    pub original_value: Option<Fen>,
    pub acquired: Date,
    pub grant: Option<String>,
    pub status: AssetStatus,
}

impl Asset {
    pub fn new(d: AssetDraft) -> Result<Asset, Vec<FieldError>> {
        let mut errors = Vec::new();
        texts(
            &mut errors,
            [
                ("asset", &d.id, Some("资产编号不能为空")),
                ("name", &d.name, Some("资产名称不能为空")),
                ("unit", &d.unit, Some("单位不能为空（如 亩、平方米、台）")),
            ],
        );
        match d.original_value {
            Some(v) if v.fen() < 0 => errors.push(field("original_value", "原值不能为负数")),
            None if !d.kind.is_resource() => errors.push(field(
                "original_value",
                format!(
                    "{}须填原值（只有土地、林地、水面等资源可不填）",
                    d.kind.name_zh()
                ),
            )),
            _ => {}
        }
        if let Some(g) = &d.grant {
            if g.trim().is_empty() {
                errors.push(field("grant", "资金编号不能为空白"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Asset {
            id: d.id.trim().to_string(),
            village: d.village,
            kind: d.kind,
            name: d.name.trim().to_string(),
            quantity: d.quantity,
            unit: d.unit.trim().to_string(),
            original_value: d.original_value,
            acquired: d.acquired,
            grant: d.grant.map(|g| g.trim().to_string()),
            status: d.status,
        })
    }
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn village(&self) -> &RegionCode {
        &self.village
    }
    pub fn kind(&self) -> AssetKind {
        self.kind
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
    pub fn unit(&self) -> &str {
        &self.unit
    }
    pub fn original_value(&self) -> Option<Fen> {
        self.original_value
    }
    pub fn acquired(&self) -> Date {
        self.acquired
    }
    /// The subsidy (SPEC §7 grant id) that bought or built it.
    pub fn grant(&self) -> Option<&str> {
        self.grant.as_deref()
    }
    pub fn status(&self) -> AssetStatus {
        self.status
    }
}

/// The month and day a yearly rent falls due (`MM-DD`); never 02-29, which most years lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DueDay {
    month: u8,
    day: u8,
}

impl DueDay {
    /// `03-05`, `3-5`, `3月5日`.
    pub fn parse(text: &str) -> Result<DueDay, String> {
        let t = text.trim();
        let bad = || format!("收款日 `{t}` 应写作 MM-DD，如 03-05");
        let (m, d) = match t.strip_suffix('日').and_then(|r| r.split_once('月')) {
            Some(md) => md,
            None => t.split_once('-').ok_or_else(bad)?,
        };
        let num = |s: &str| -> Option<u8> {
            (!s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        let (Some(month), Some(day)) = (num(m), num(d)) else {
            return Err(bad());
        };
        DueDay::new(month, day).ok_or_else(|| match (month, day) {
            (2, 29) => {
                "收款日不能是 02-29（多数年份没有这一天），请改为 02-28 或 03-01".to_string()
            }
            _ => format!("收款日 `{t}` 不存在"),
        })
    }

    /// A month and day that every year has (02-29 is not one).
    pub fn new(month: u8, day: u8) -> Option<DueDay> {
        // 2001 is not a leap year: a day it has, every year has.
        Date::from_ymd(2001, month, day).map(|_| DueDay { month, day })
    }

    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
    /// This day in `year`.
    pub fn in_year(self, year: i32) -> Date {
        Date::from_ymd(year, self.month, self.day).expect("a due day exists in every year")
    }
    pub fn text(self) -> String {
        format!("{:02}-{:02}", self.month, self.day)
    }
}

/// A step-up of a yearly rent: every `years` contract years, × (1 + `rate`), rounded to fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepUp {
    pub years: u32,
    pub rate: Ppm,
}

/// One installment of a contract without a yearly rent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Installment {
    pub date: Date,
    pub amount: Fen,
}

/// What a contract owes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A yearly rent due on every `due_day` within the term, optionally stepping up.
    Annual {
        rent: Fen,
        due_day: DueDay,
        step: Option<StepUp>,
    },
    /// Installments in date order (possibly none yet: they are imported after the contract).
    Installments(Vec<Installment>),
}

/// A receipt on a contract: an entry naming it (SPEC §16), by its date and amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Receipt {
    pub date: Date,
    pub amount: Fen,
}

/// A contract of a village, made by [`Contract::new`]; its dues are computed once, then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    id: String,
    village: RegionCode,
    counterparty: String,
    counterparty_id: Option<String>,
    asset: Option<String>,
    kind: ContractKind,
    signed: Date,
    start: Date,
    end: Date,
    resolution: Option<Date>,
    schedule: Schedule,
    account: Account,
    dues: Vec<Due>,
}

/// A contract's fields as read from a row, each already parsed on its own.
#[derive(Clone, Debug)]
pub struct ContractDraft {
    pub id: String,
    pub village: RegionCode,
    pub counterparty: String,
    pub counterparty_id: Option<String>,
    pub asset: Option<String>,
    pub kind: ContractKind,
    pub signed: Date,
    pub start: Date,
    pub end: Date,
    pub resolution: Option<Date>,
    pub annual_rent: Option<Fen>,
    pub due_day: Option<DueDay>,
    pub step_years: Option<u32>,
    pub step_rate: Option<Ppm>,
    /// Default `operating_revenue`.
    pub account: Option<Account>,
    pub installments: Vec<Installment>,
}

impl Contract {
    /// The contract of a draft, or every rule it breaks, each on its column.
    pub fn new(d: ContractDraft) -> Result<Contract, Vec<FieldError>> {
        let mut errors = Vec::new();
        texts(
            &mut errors,
            [
                ("contract", &d.id, Some("合同编号不能为空")),
                ("counterparty", &d.counterparty, Some("对方名称不能为空")),
                (
                    "counterparty_id",
                    d.counterparty_id.as_deref().unwrap_or(""),
                    None,
                ),
            ],
        );
        if d.end < d.start {
            errors.push(field(
                "end",
                format!("终止日期 {} 早于起始日期 {}", d.end.iso(), d.start.iso()),
            ));
        }
        let account = d.account.unwrap_or(Account::OperatingRevenue);
        if !account.is_income() {
            errors.push(field(
                "account",
                format!("入账科目应为收入类科目，{}是支出类", account.name_zh()),
            ));
        }
        let step = match (d.step_years, d.step_rate) {
            (None, None) => None,
            (Some(_), None) => {
                errors.push(field("step_rate", "填了递增年限，也须填递增比例"));
                None
            }
            (None, Some(_)) => {
                errors.push(field("step_years", "填了递增比例，也须填递增年限"));
                None
            }
            (Some(0), Some(_)) => {
                errors.push(field("step_years", "递增年限应至少为 1 年"));
                None
            }
            (Some(_), Some(r)) if r.ppm() < 0 || r > Ppm::ONE => {
                errors.push(field("step_rate", "递增比例应在 0 到 100% 之间"));
                None
            }
            (Some(years), Some(rate)) => Some(StepUp { years, rate }),
        };
        let schedule = match d.annual_rent {
            Some(rent) => {
                if !d.installments.is_empty() {
                    errors.push(field(
                        "annual_rent",
                        "有年租金的合同不能再有分期应收（二者只能选一）",
                    ));
                }
                if rent.fen() <= 0 {
                    errors.push(field("annual_rent", "年租金应大于 0"));
                }
                let due_day = match d.due_day {
                    Some(day) => Some(day),
                    None => match DueDay::new(d.start.month(), d.start.day()) {
                        Some(day) => Some(day),
                        None => {
                            errors.push(field(
                                "due_day",
                                "起始日期是 2 月 29 日，须填写收款日（如 02-28 或 03-01）",
                            ));
                            None
                        }
                    },
                };
                due_day.map(|due_day| Schedule::Annual {
                    rent,
                    due_day,
                    step,
                })
            }
            None => {
                if d.due_day.is_some() {
                    errors.push(field("due_day", "收款日只用于有年租金的合同"));
                }
                if step.is_some() {
                    errors.push(field("step_years", "递增只用于有年租金的合同"));
                }
                let mut list = d.installments.clone();
                if list.iter().any(|i| i.amount.fen() <= 0) {
                    errors.push(field("amount", "分期金额应大于 0"));
                }
                list.sort();
                Some(Schedule::Installments(list))
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let schedule = schedule.expect("no errors: a schedule was made");
        let dues = match schedule::dues_of(&schedule, d.start, d.end) {
            Ok(dues) => dues,
            Err(message) => return Err(vec![field("step_rate", message)]),
        };
        Ok(Contract {
            id: d.id.trim().to_string(),
            village: d.village,
            counterparty: d.counterparty.trim().to_string(),
            counterparty_id: d
                .counterparty_id
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            asset: d
                .asset
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            kind: d.kind,
            signed: d.signed,
            start: d.start,
            end: d.end,
            resolution: d.resolution,
            schedule,
            account,
            dues,
        })
    }

    /// The same contract with `installments` as its schedule; refused for a contract with a yearly
    /// rent (SPEC §16: a yearly rent together with installments is an error).
    pub fn with_installments(&self, installments: Vec<Installment>) -> Result<Contract, String> {
        if matches!(self.schedule, Schedule::Annual { .. }) {
            return Err(format!(
                "合同 {} 有年租金，不能再有分期应收（二者只能选一）",
                self.id
            ));
        }
        if let Some(i) = installments.iter().find(|i| i.amount.fen() <= 0) {
            return Err(format!("分期金额应大于 0（{} 元）", i.amount));
        }
        let mut list = installments;
        list.sort();
        let schedule = Schedule::Installments(list);
        let dues = schedule::dues_of(&schedule, self.start, self.end)?;
        Ok(Contract {
            schedule,
            dues,
            ..self.clone()
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn village(&self) -> &RegionCode {
        &self.village
    }
    pub fn counterparty(&self) -> &str {
        &self.counterparty
    }
    /// The counterparty's id number, whole: for storing only. Pages and exports show
    /// [`Contract::counterparty_id_masked`].
    pub fn counterparty_id(&self) -> Option<&str> {
        self.counterparty_id.as_deref()
    }
    /// The id number as anything shown may hold it: its last four characters after `*`s.
    pub fn counterparty_id_masked(&self) -> Option<String> {
        self.counterparty_id.as_deref().map(mask_id)
    }
    pub fn asset(&self) -> Option<&str> {
        self.asset.as_deref()
    }
    pub fn kind(&self) -> ContractKind {
        self.kind
    }
    pub fn signed(&self) -> Date {
        self.signed
    }
    pub fn start(&self) -> Date {
        self.start
    }
    pub fn end(&self) -> Date {
        self.end
    }
    pub fn resolution(&self) -> Option<Date> {
        self.resolution
    }
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }
    pub fn account(&self) -> Account {
        self.account
    }
    /// Everything owed, in date order.
    pub fn dues(&self) -> &[Due] {
        &self.dues
    }
    /// The yearly rent of the first contract year, before any step.
    pub fn first_rent(&self) -> Option<Fen> {
        match self.schedule {
            Schedule::Annual { rent, .. } => Some(rent),
            Schedule::Installments(_) => None,
        }
    }
    /// The amount over the whole term (bounded by [`MAX_FEN`] when made).
    pub fn total(&self) -> Fen {
        // Within MAX_OWED: checked when the contract was made.
        FenSum::of(self.dues.iter().map(|d| d.amount)).saturated()
    }
    /// In force on some day from `from` to `to` (both included).
    pub fn in_force_between(&self, from: Date, to: Date) -> bool {
        self.start <= to && self.end >= from
    }
    /// In force on some day of `year`.
    pub fn in_force_in(&self, year: i32) -> bool {
        self.in_force_between(
            Date::from_ymd(year, 1, 1).expect("1 January"),
            Date::year_end(year),
        )
    }
    /// The start's `years`-th anniversary (a 29 February start has its anniversary on 28 February
    /// in years without one).
    pub fn anniversary(&self, years: i32) -> Date {
        anniversary(self.start, years)
    }
    /// The term is over 30 years: the end on or after the start's 30th anniversary.
    pub fn over_thirty_years(&self) -> bool {
        self.end >= self.anniversary(30)
    }

    /// Whether an entry of `village` on `account` dated `date` may name this contract (SPEC §16):
    /// the same village, an income account, not before signing and not more than a year after the
    /// end. The message says what is wrong.
    pub fn check_receipt(
        &self,
        village: &RegionCode,
        date: Date,
        account: Account,
    ) -> Result<(), String> {
        if village != &self.village {
            return Err(format!(
                "合同 {} 属于村 {}，不能记在村 {village} 的账上",
                self.id, self.village
            ));
        }
        if !account.is_income() {
            return Err(format!(
                "合同收款应记在收入类科目，{}是支出类",
                account.name_zh()
            ));
        }
        if date < self.signed {
            return Err(format!(
                "日期 {} 早于合同 {} 的签订日期 {}",
                date.iso(),
                self.id,
                self.signed.iso()
            ));
        }
        let last = anniversary(self.end, 1);
        if date > last {
            return Err(format!(
                "日期 {} 在合同 {} 终止（{}）一年以后",
                date.iso(),
                self.id,
                self.end.iso()
            ));
        }
        Ok(())
    }

    /// What the contract owes in `year`, in date order.
    pub fn dues_in(&self, year: i32) -> impl Iterator<Item = &Due> + '_ {
        self.dues.iter().filter(move |d| d.date.year() == year)
    }

    /// How each figure the contract owes in `year` is made, in Chinese.
    pub fn year_trace(&self, year: i32) -> Vec<String> {
        self.dues_in(year)
            .map(|d| schedule::due_trace(self, d))
            .collect()
    }
}

/// `date`'s `years`-th anniversary; 28 February for a 29 February in a year without one.
pub fn anniversary(date: Date, years: i32) -> Date {
    let y = date.year() + years;
    Date::from_ymd(y, date.month(), date.day())
        .unwrap_or_else(|| Date::from_ymd(y, 2, 28).expect("28 February"))
}

/// An id number shown as its last four characters after as many `*` as it had before them.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let keep = chars.len().min(4);
    let mut out = "*".repeat(chars.len() - keep);
    out.extend(&chars[chars.len() - keep..]);
    out
}

/// A village's assets, contracts and receipts, as a report reads them.
#[derive(Clone, Debug, Default)]
pub struct VillageContractData {
    pub assets: Vec<Asset>,
    /// The current version of each contract, in id order.
    pub contracts: Vec<Contract>,
    /// Each contract's receipts (entries naming it), in date order, by contract id.
    pub receipts: BTreeMap<String, Vec<Receipt>>,
    /// Entries naming a contract id this village does not have (none when the importer's checks
    /// held): kept so that they are not silently lost from a sum.
    pub unknown: Vec<(String, Receipt)>,
}

impl VillageContractData {
    pub fn contract(&self, id: &str) -> Option<&Contract> {
        self.contracts.iter().find(|c| c.id == id)
    }
    pub fn asset(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }
    pub fn receipts_of(&self, id: &str) -> &[Receipt] {
        self.receipts.get(id).map(|v| v.as_slice()).unwrap_or(&[])
    }
}

/// Every village's contract data.
#[derive(Clone, Debug, Default)]
pub struct ContractBook {
    pub villages: BTreeMap<RegionCode, VillageContractData>,
}

impl ContractBook {
    pub fn of(&self, village: &RegionCode) -> Option<&VillageContractData> {
        self.villages.get(village)
    }
    pub fn is_empty(&self) -> bool {
        self.villages.is_empty()
    }
}

/// The bound on everything a contract owes: a step-up that runs past it is refused when the
/// contract is made, so that every sum over a contract's dues fits.
pub(crate) const MAX_OWED: Fen = Fen::from_fen(MAX_FEN);

#[cfg(test)]
mod tests;
