//! The reward workflow of SPEC §13 as rules: the statuses a proposal passes through, the actions that
//! move it, who may take each, and what a village resolution, an approval and an overpayment must
//! satisfy. No I/O: the store records what these rules allow, the web and API ask them first.

pub mod dates;
pub mod decided;
pub mod fingerprint;
mod resolution;

pub use dates::StepDates;
pub use decided::{changed_figures, overpayment, AwardRecord, Changed, Repricing, Standing};
pub use resolution::{Body, Meetings, Resolution, VoteCount};

use std::collections::BTreeMap;

use crate::access::Role;
use crate::money::Fen;

/// Where a proposal stands. `Stale` is where an unpaid proposal goes when new figures change what it
/// was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Stale,
    Computed,
    Resolved,
    TownshipApproved,
    CountyFiled,
    Paid,
    Published,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Stale,
        Status::Computed,
        Status::Resolved,
        Status::TownshipApproved,
        Status::CountyFiled,
        Status::Paid,
        Status::Published,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Stale => "stale",
            Status::Computed => "computed",
            Status::Resolved => "resolved",
            Status::TownshipApproved => "township_approved",
            Status::CountyFiled => "county_filed",
            Status::Paid => "paid",
            Status::Published => "published",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Stale => "账目已变动，待重新计算",
            Status::Computed => "已计算",
            Status::Resolved => "村级决议已通过（四议两公开）",
            Status::TownshipApproved => "乡镇已审核",
            Status::CountyFiled => "县级已备案",
            Status::Paid => "已发放",
            Status::Published => "已公示",
        }
    }

    /// What the proposal waits for, as a to-do list names it.
    pub fn waiting_zh(self) -> &'static str {
        match self {
            Status::Stale => "待重新计算",
            Status::Computed => "待村级决议",
            Status::Resolved => "待乡镇审核",
            Status::TownshipApproved => "待县级备案",
            Status::CountyFiled => "待发放",
            Status::Paid => "待公示",
            Status::Published => "已公示",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.key() == s)
    }

    /// Paid and published proposals are history: new figures no longer send them back.
    pub fn is_settled(self) -> bool {
        self >= Status::Paid
    }

    /// An unpaid proposal that is not stale already (computed … county filed): the ones new figures
    /// or a new policy send back to `stale`.
    pub fn is_open(self) -> bool {
        self != Status::Stale && !self.is_settled()
    }

    /// Every open status ([`Status::is_open`]), in order: the list a query of open proposals names.
    pub fn open() -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(|s| s.is_open())
    }
}

/// The actions of SPEC §13's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Compute,
    Resolve,
    Approve,
    File,
    Pay,
    Publish,
    SendBack,
    Recover,
}

/// Why an action may not be taken now: the user's role (403), or the proposal's status (422).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Role(String),
    Status(String),
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Compute,
        Action::Resolve,
        Action::Approve,
        Action::File,
        Action::Pay,
        Action::Publish,
        Action::SendBack,
        Action::Recover,
    ];

    /// The action's name in URLs and the API.
    pub fn key(self) -> &'static str {
        match self {
            Action::Compute => "compute",
            Action::Resolve => "resolve",
            Action::Approve => "approve",
            Action::File => "file",
            Action::Pay => "pay",
            Action::Publish => "publish",
            Action::SendBack => "send_back",
            Action::Recover => "recover",
        }
    }

    /// How the proposal's history names the step.
    pub fn name_zh(self) -> &'static str {
        match self {
            Action::Compute => "计算",
            Action::Resolve => "村级决议（四议两公开）",
            Action::Approve => "乡镇审核通过",
            Action::File => "县级备案",
            Action::Pay => "发放",
            Action::Publish => "公示",
            Action::SendBack => "退回",
            Action::Recover => "追回多发金额",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == s)
    }

    /// The status after the action, taken from `from` (`None`: no proposal yet); `None` when the action
    /// cannot be taken from there.
    pub fn after(self, from: Option<Status>) -> Option<Status> {
        use Status::*;
        match (self, from) {
            (Action::Compute, None | Some(Stale | Computed)) => Some(Computed),
            (Action::Resolve, Some(Computed)) => Some(Resolved),
            (Action::Approve, Some(Resolved)) => Some(TownshipApproved),
            (Action::File, Some(TownshipApproved)) => Some(CountyFiled),
            (Action::Pay, Some(CountyFiled)) => Some(Paid),
            (Action::Publish, Some(Paid)) => Some(Published),
            (Action::SendBack, Some(Resolved | TownshipApproved | CountyFiled)) => Some(Computed),
            (Action::Recover, Some(s @ (Paid | Published))) => Some(s),
            _ => None,
        }
    }

    /// The status after the action from `from`, or the refusal a user reads when the action cannot
    /// follow that status.
    pub fn next(self, from: Option<Status>) -> Result<Status, String> {
        self.after(from).ok_or_else(|| {
            let now = from.map_or("尚未生成奖励方案", |s| s.name_zh());
            format!("当前是“{now}”，不能进行“{}”", self.name_zh())
        })
    }

    /// How a proposal's history names the step: by the status it leads to, or by what it did where
    /// the status returns or stays (a send-back, a recovery). New figures or a new policy sending a
    /// proposal back write `stale` ([`Status::Stale`]'s key).
    pub fn history_key(self) -> &'static str {
        match self {
            Action::Compute => Status::Computed.key(),
            Action::Resolve => Status::Resolved.key(),
            Action::Approve => Status::TownshipApproved.key(),
            Action::File => Status::CountyFiled.key(),
            Action::Pay => Status::Paid.key(),
            Action::Publish => Status::Published.key(),
            Action::SendBack => "sent_back",
            Action::Recover => "recovered",
        }
    }

    /// Whether the action is a review taken with a note only (approve, file, send back); the others
    /// each carry data of their own (figures, a resolution, a payment, a notice, a recovery).
    pub fn is_review(self) -> bool {
        matches!(self, Action::Approve | Action::File | Action::SendBack)
    }

    /// Who takes the action from `from`: computing is the township's or the county's; sending back is
    /// the reviewer's of that stage (the township reviews a resolution, the county what the township
    /// approved or the county filed); recovering an overpayment is the county's.
    pub fn roles(self, from: Option<Status>) -> &'static [Role] {
        match (self, from) {
            (Action::Compute, _) => &[Role::TownshipOfficer, Role::CountyAdmin],
            (Action::SendBack, Some(Status::Resolved)) => &[Role::TownshipOfficer],
            (Action::File | Action::SendBack | Action::Recover, _) => &[Role::CountyAdmin],
            _ => &[Role::TownshipOfficer],
        }
    }

    /// Whether `role` may take the action on a proposal at `from`, and the status it leads to. The role
    /// is asked first: a step that is not the user's is refused as such whatever the status.
    pub fn check(self, from: Option<Status>, role: Role) -> Result<Status, Refusal> {
        let roles = self.roles(from);
        if !roles.contains(&role) {
            let who: Vec<&str> = roles.iter().map(|r| r.name_zh()).collect();
            return Err(Refusal::Role(format!(
                "“{}”由{}进行（您是{}）",
                self.name_zh(),
                who.join("或"),
                role.name_zh()
            )));
        }
        self.next(from).map_err(Refusal::Status)
    }
}

/// A step of a proposal's history named in Chinese, from its key ([`Action::history_key`]).
pub fn history_name_zh(key: &str) -> &str {
    let action = Action::ALL.into_iter().find(|a| a.history_key() == key);
    match (action, Status::parse(key)) {
        (Some(a), None) => a.name_zh(),
        (_, Some(s)) => s.name_zh(),
        (None, None) => key,
    }
}

/// Whether a proposal at `status` (`None`: none yet) waits for a step of `role`: the to-do list a user
/// opens on. Sending back and recovering are not waited for (they answer what a reviewer finds), nor
/// is computing by the county (the township computes; the county may when it must).
pub fn awaits(role: Role, status: Option<Status>) -> bool {
    let compute = (role != Role::CountyAdmin).then_some(Action::Compute);
    compute
        .into_iter()
        .chain([
            Action::Resolve,
            Action::Approve,
            Action::File,
            Action::Pay,
            Action::Publish,
        ])
        .any(|a| a.check(status, role).is_ok())
}

/// The alerts an approval has not checked: each alert kind of the village's year needs a written
/// 核实说明 (blank text is no check). Kinds are listed once, in the order given.
pub fn unchecked_alerts<'a>(
    kinds: impl IntoIterator<Item = &'a str>,
    checks: &BTreeMap<String, String>,
) -> Vec<&'a str> {
    let mut missing: Vec<&str> = Vec::new();
    for k in kinds {
        let checked = checks.get(k).is_some_and(|t| !t.trim().is_empty());
        if !checked && !missing.contains(&k) {
            missing.push(k);
        }
    }
    missing
}

/// Amounts per person checked against limits per person: each named person has a limit, and each
/// amount lies within `[least, limit]`; `outside` words the refusal (person, amount, limit).
fn within(
    amounts: &BTreeMap<String, Fen>,
    limits: &BTreeMap<String, Fen>,
    least: Fen,
    unknown: &str,
    outside: impl Fn(&str, Fen, Fen) -> String,
) -> Result<(), String> {
    for (person, amount) in amounts {
        let Some(limit) = limits.get(person) else {
            return Err(format!("{person} {unknown}"));
        };
        if *amount < least || amount > limit {
            return Err(outside(person, *amount, *limit));
        }
    }
    Ok(())
}

/// A payment (SPEC §13 `pay`) names only persons of the resolution and pays none more than decided.
pub fn check_payment(
    paid: &BTreeMap<String, Fen>,
    decided: &BTreeMap<String, Fen>,
) -> Result<(), String> {
    within(
        paid,
        decided,
        Fen::ZERO,
        "不在村级决议的名单中",
        |p, a, l| {
            format!(
                "{p} 的发放金额 {} 应在 0 与决定金额 {} 之间",
                a.display(),
                l.display()
            )
        },
    )
}

/// A recovery (`recover`) gives back more than nothing and no more than is owed, per person.
pub fn check_recovery(
    recovered: &BTreeMap<String, Fen>,
    owed: &BTreeMap<String, Fen>,
) -> Result<(), String> {
    within(
        recovered,
        owed,
        Fen::ONE,
        "没有应追回的金额",
        |p, a, l| {
            format!(
                "{p} 的追回金额 {} 应大于 0 且不超过应追回的 {}",
                a.display(),
                l.display()
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(pairs: &[(&str, i64)]) -> BTreeMap<String, Fen> {
        pairs
            .iter()
            .map(|(p, f)| (p.to_string(), Fen::from_fen(*f)))
            .collect()
    }

    #[test]
    fn each_action_from_where_it_may_start_and_to_where_it_leads() {
        use Status::*;
        let table = [
            (Action::Compute, None, Some(Computed)),
            (Action::Compute, Some(Stale), Some(Computed)),
            (Action::Compute, Some(Resolved), None),
            (Action::Resolve, Some(Computed), Some(Resolved)),
            (Action::Resolve, Some(Stale), None),
            (Action::Approve, Some(Resolved), Some(TownshipApproved)),
            (Action::File, Some(TownshipApproved), Some(CountyFiled)),
            (Action::File, Some(Resolved), None),
            (Action::Pay, Some(CountyFiled), Some(Paid)),
            (Action::Publish, Some(Paid), Some(Published)),
            (Action::Publish, Some(CountyFiled), None),
            (Action::SendBack, Some(Resolved), Some(Computed)),
            (Action::SendBack, Some(CountyFiled), Some(Computed)),
            (Action::SendBack, Some(Computed), None),
            (Action::SendBack, Some(Paid), None),
            (Action::Recover, Some(Published), Some(Published)),
            (Action::Recover, Some(CountyFiled), None),
        ];
        for (action, from, after) in table {
            assert_eq!(action.after(from), after, "{action:?} from {from:?}");
        }
    }

    #[test]
    fn open_proposals_are_the_unpaid_ones_not_yet_stale() {
        use Status::*;
        let open: Vec<Status> = Status::open().collect();
        assert_eq!(open, [Computed, Resolved, TownshipApproved, CountyFiled]);
        assert!(Status::ALL
            .iter()
            .all(|s| s.is_open() == (*s != Stale && !s.is_settled())));
    }

    #[test]
    fn a_step_follows_only_its_status_and_the_history_names_it() {
        use Status::*;
        assert_eq!(Action::Pay.next(Some(CountyFiled)), Ok(Paid));
        assert_eq!(
            Action::File.next(Some(Resolved)),
            Err("当前是“村级决议已通过（四议两公开）”，不能进行“县级备案”".into())
        );
        assert_eq!(
            Action::Resolve.next(None),
            Err("当前是“尚未生成奖励方案”，不能进行“村级决议（四议两公开）”".into())
        );
        // Every step that leads to a status of its own is named by that status.
        for a in Action::ALL {
            for from in std::iter::once(None).chain(Status::ALL.map(Some)) {
                if let (Some(to), false) = (
                    a.after(from),
                    matches!(a, Action::SendBack | Action::Recover),
                ) {
                    assert_eq!(a.history_key(), to.key(), "{a:?}");
                }
            }
        }
        assert_eq!(Action::SendBack.history_key(), "sent_back");
        assert_eq!(history_name_zh("sent_back"), "退回");
        assert_eq!(history_name_zh("recovered"), "追回多发金额");
        assert_eq!(history_name_zh("stale"), "账目已变动，待重新计算");
        assert_eq!(history_name_zh("paid"), "已发放");
        assert_eq!(history_name_zh("other"), "other");
        let reviews: Vec<Action> = Action::ALL.into_iter().filter(|a| a.is_review()).collect();
        assert_eq!(reviews, [Action::Approve, Action::File, Action::SendBack]);
    }

    #[test]
    fn the_reviewer_of_each_stage_sends_back() {
        let t = Role::TownshipOfficer;
        let c = Role::CountyAdmin;
        let s = Action::SendBack;
        assert_eq!(s.check(Some(Status::Resolved), t), Ok(Status::Computed));
        assert!(matches!(
            s.check(Some(Status::Resolved), c),
            Err(Refusal::Role(_))
        ));
        assert_eq!(
            s.check(Some(Status::TownshipApproved), c),
            Ok(Status::Computed)
        );
        let Err(Refusal::Role(m)) = s.check(Some(Status::CountyFiled), t) else {
            panic!("the township may not send back what the county filed");
        };
        assert_eq!(m, "“退回”由县级管理员进行（您是乡镇农经站）");
        let Err(Refusal::Status(m)) = Action::Approve.check(Some(Status::Computed), t) else {
            panic!("approve before the resolution");
        };
        assert_eq!(m, "当前是“已计算”，不能进行“乡镇审核通过”");
    }

    #[test]
    fn each_role_waits_on_its_own_steps() {
        use Status::*;
        let (t, c) = (Role::TownshipOfficer, Role::CountyAdmin);
        let waits = |role| -> Vec<Option<Status>> {
            std::iter::once(None)
                .chain(Status::ALL.map(Some))
                .filter(|s| awaits(role, *s))
                .collect()
        };
        let township = [
            None,
            Some(Stale),
            Some(Computed),
            Some(Resolved),
            Some(CountyFiled),
            Some(Paid),
        ];
        assert_eq!(waits(t), township);
        assert_eq!(waits(c), [Some(TownshipApproved)]);
        assert!(waits(Role::Auditor).is_empty());
    }

    #[test]
    fn every_alert_kind_needs_a_written_check() {
        let checks: BTreeMap<String, String> = [
            ("year_end_jump".to_string(), "已核对合同".to_string()),
            ("pass_through".to_string(), "  ".to_string()),
        ]
        .into_iter()
        .collect();
        let kinds = ["year_end_jump", "pass_through", "big_jump", "pass_through"];
        assert_eq!(
            unchecked_alerts(kinds, &checks),
            ["pass_through", "big_jump"]
        );
        assert!(unchecked_alerts(["year_end_jump"], &checks).is_empty());
    }

    #[test]
    fn payments_up_to_the_decided_amounts_and_recoveries_up_to_what_is_owed() {
        let decided = fen(&[("A", 500_000)]);
        assert_eq!(check_payment(&fen(&[("A", 500_000)]), &decided), Ok(()));
        assert_eq!(check_payment(&fen(&[("A", 0)]), &decided), Ok(()));
        assert_eq!(
            check_payment(&fen(&[("A", 500_001)]), &decided),
            Err("A 的发放金额 5,000.01 应在 0 与决定金额 5,000.00 之间".into())
        );
        assert_eq!(
            check_payment(&fen(&[("B", 1)]), &decided),
            Err("B 不在村级决议的名单中".into())
        );
        let owed = fen(&[("A", 100)]);
        assert_eq!(check_recovery(&fen(&[("A", 100)]), &owed), Ok(()));
        assert!(check_recovery(&fen(&[("A", 0)]), &owed).is_err());
        assert!(check_recovery(&fen(&[("A", 101)]), &owed).is_err());
        assert_eq!(
            check_recovery(&fen(&[("B", 1)]), &owed),
            Err("B 没有应追回的金额".into())
        );
    }

    #[test]
    fn an_overpayment_only_when_the_pool_fell_below_what_was_paid() {
        let paid = fen(&[("A", 500_000), ("B", 300_000)]);
        // Pool now 600,000 < 800,000 paid: A may keep 400,000, B 200,000 → 1,000.00 each back.
        let now = fen(&[("A", 400_000), ("B", 200_000)]);
        assert_eq!(
            overpayment(&paid, Fen::from_fen(600_000), &now),
            Some(fen(&[("A", 100_000), ("B", 100_000)]))
        );
        // A person no longer eligible gives back all; one allowed more gives back nothing.
        let now = fen(&[("B", 350_000)]);
        assert_eq!(
            overpayment(&paid, Fen::from_fen(350_000), &now),
            Some(fen(&[("A", 500_000)]))
        );
        assert_eq!(overpayment(&paid, Fen::from_fen(800_000), &now), None);
    }
}
