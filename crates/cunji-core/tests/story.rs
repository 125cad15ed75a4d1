//! The calculation told for villagers (SPEC §15, issue #16): the same steps and numbers as the trace,
//! in plain sentences. Each test reads the whole story of one village, word for word.

mod common;

use common::World;
use cunji_core::account::Account::*;
use cunji_core::cadre::Role;
use cunji_core::policy::Policy;

const V: &str = "130102001001";

/// A village with operating revenue of `last` in 2023 and `this` in 2024, and its two cadres.
fn village(last: &str, this: &str) -> World {
    let mut w = World::with_villages("130102001", &["001"]);
    w.book(V, 2023, &[(OperatingRevenue, last)]);
    w.book(V, 2024, &[(OperatingRevenue, this)]);
    w.cadre(V, 2024, "R1", Role::SecretaryDirector, 12).name = "陈建国".into();
    w.cadre(V, 2024, "R3", Role::Member, 12).name = "赵保平".into();
    w
}

fn policy(plan: &str) -> Policy {
    Policy::parse(&format!("name = \"某县办法\"\n[incentive]\n{plan}")).unwrap()
}

#[test]
fn ten_percent_of_the_growth_told_as_the_issue_writes_it() {
    let w = village("79770.52", "267814.55");
    let story = w.story(&policy("rate = \"10%\"\n"), 2024, V);
    assert_eq!(
        story,
        [
            "按《某县办法》计算。2024 年本村经营性收入为 267,814.55 元（经营收入 + 发包及上交收入 + 投资收益）。",
            "比 2023 年的 79,770.52 元增加 188,044.03 元。",
            "按办法，奖励不超过增加额的 10%：188,044.03 元 × 10% = 18,804.403 元。",
            "四舍五入到分，奖励总额最多 18,804.40 元。这是上限：村里可以决定少发，不能多发。",
            "赵保平（两委成员）按办法不参加分配。",
            "符合条件的 1 人按权重分这 18,804.40 元，每人分到分，不足一分的零头按余数从大到小补给。",
            "陈建国（书记兼主任）权重 1，分得 18,804.40 元。",
        ]
    );
}

#[test]
fn tiers_caps_and_appraisal_each_say_what_they_did() {
    let mut w = village("100000", "400000");
    w.cadre(V, 2024, "R2", Role::Secretary, 12).name = "李明".into();
    for c in w.cadres.iter_mut() {
        c.appraisal = Some(
            if c.person == "R2" {
                "基本合格"
            } else {
                "优秀"
            }
            .into(),
        );
    }
    let plan = "basis = \"increase\"\nschedule = \"whole\"\ntiers = [{ from = 0, rate = \"5%\" }, { from = 200000, rate = \"8%\" }]\ncap = 20000\nmin_level = 50000\nappraisal = { \"优秀\" = \"1\", \"基本合格\" = \"0.5\" }\n";
    let story = w.story(&policy(plan), 2024, V);
    assert_eq!(
        story,
        [
            "按《某县办法》计算。2024 年本村经营性收入为 400,000.00 元（经营收入 + 发包及上交收入 + 投资收益）。",
            "比 2023 年的 100,000.00 元增加 300,000.00 元。",
            "办法要求本村经营性收入至少 50,000.00 元，本村是 400,000.00 元，已达到。",
            "按办法分档计算：增加额 300,000.00 元属于 200,000.00 元以上这一档，比例 8%；300,000.00 元 × 8% = 24,000.00 元。",
            "办法规定每村最多 20,000.00 元，所以按 20,000.00 元计。",
            "四舍五入到分，奖励总额最多 20,000.00 元。这是上限：村里可以决定少发，不能多发。",
            "赵保平（两委成员）按办法不参加分配。",
            "符合条件的 2 人按权重分这 20,000.00 元，每人分到分，不足一分的零头按余数从大到小补给。",
            "陈建国（书记兼主任）权重 1，分得 10,000.00 元；考核“优秀”，按 100% 发放 10,000.00 元。",
            "李明（书记）权重 1，分得 10,000.00 元；考核“基本合格”，按 50% 发放 5,000.00 元。",
            "其余 5,000.00 元因封顶或考核没有分出，不发放。",
        ]
    );
}

#[test]
fn no_growth_says_why_nothing_is_paid() {
    let w = village("300000", "250000.10");
    let story = w.story(&policy("rate = \"10%\"\n"), 2024, V);
    assert_eq!(
        story[1..],
        [
            "比 2023 年的 300,000.00 元减少 49,999.90 元。",
            "增加额不大于 0，按办法不发奖励。",
        ]
    );
}
