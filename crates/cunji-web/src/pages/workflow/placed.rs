//! Where each error of a refused workflow form is shown: beside the field it names (issue #33: a
//! reviewer should not hunt for which of twelve boxes a message means), and every error once more in
//! the list at the head of the form.
//!
//! The rules are checked in `cunji_core::workflow` and `crate::steps`, whose messages begin with, or
//! name, the field's own label ("发放日期 …", "公示期结束日期 …", "R100200-1 的决定金额 …"); the field is
//! the one whose label words come first in the message. A message naming none stays at the head only.

/// One error of a refused form: the fields it belongs beside, and its text as the user reads it
/// (a person's number given with the name: "王一（R100200-1）").
pub struct Placed {
    pub fields: Vec<String>,
    pub text: String,
}

/// Label words of each form's fields, by the form's key (`Action::key`), and the field's name in
/// the form. Order breaks a tie of position.
fn words(form: &str) -> &'static [(&'static str, &'static str)] {
    match form {
        "resolve" => &[
            ("决议公开", "resolution_published"),
            ("党组织提议", "proposed"),
            ("两委会议", "discussed"),
            ("党员大会", "reviewed"),
            ("村民（代表）会议", "decided"),
            ("决议机构", "body"),
            ("参加", "present"),
            ("应到", "members"),
            ("实到", "present"),
            ("赞成", "for"),
            ("反对", "against"),
            ("弃权", "abstain"),
        ],
        "approve" => &[("审核意见", "note")],
        "file" => &[("备案说明", "note")],
        "pay" => &[("发放日期", "date")],
        "publish" => &[
            ("公示期开始", "from"),
            ("公示开始", "from"),
            ("公示期结束", "to"),
            ("公示结束", "to"),
        ],
        "recover" => &[("追回日期", "date")],
        "send_back" => &[("退回理由", "reason"), ("确认退回", "confirm")],
        _ => &[],
    }
}

/// The per-person field of a form: the amounts typed for each person.
fn person_field(form: &str) -> Option<&'static str> {
    match form {
        "resolve" => Some("awards_"),
        "pay" => Some("paid_"),
        "recover" => Some("recovered_"),
        _ => None,
    }
}

/// Places each error of `form`: `people` are (number, name) of the persons on the form, `checks`
/// the (key, name) of the alerts an approval must answer.
pub fn place(
    form: &str,
    errors: &[String],
    people: &[(String, String)],
    checks: &[(String, String)],
) -> Vec<Placed> {
    errors
        .iter()
        .map(|m| Placed {
            fields: fields_of(form, m, people, checks),
            text: named(m, people),
        })
        .collect()
}

fn fields_of(
    form: &str,
    message: &str,
    people: &[(String, String)],
    checks: &[(String, String)],
) -> Vec<String> {
    if form == "approve" {
        // One message names every alert still without its 核实说明: it belongs beside each.
        let missing: Vec<String> = checks
            .iter()
            .filter(|(_, name)| message.contains(name.as_str()))
            .map(|(key, _)| format!("checks_{key}"))
            .collect();
        if !missing.is_empty() {
            return missing;
        }
    }
    let mut found: Vec<(usize, String)> = words(form)
        .iter()
        .filter_map(|(w, field)| message.find(w).map(|at| (at, field.to_string())))
        .collect();
    if let Some(prefix) = person_field(form) {
        for (person, _) in people {
            // A number is followed by a space in every message that names one, so R100200-1 is never
            // found inside R100200-10.
            if let Some(at) = message.find(&format!("{person} ")) {
                found.push((at, format!("{prefix}{person}")));
            }
        }
    }
    // Stable: of two words at one position, the one listed first.
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().take(1).map(|(_, f)| f).collect()
}

/// The message with each person's number given beside the name (issue #33: no number without its name).
fn named(message: &str, people: &[(String, String)]) -> String {
    let mut out = message.to_string();
    for (person, name) in people.iter().filter(|(_, n)| !n.is_empty()) {
        out = out.replace(&format!("{person} "), &format!("{name}（{person}）"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<(String, String)> {
        vec![
            ("R1-1".into(), "王一".into()),
            ("R1-10".into(), "李十".into()),
        ]
    }

    fn one(form: &str, m: &str) -> (Vec<String>, String) {
        let checks = vec![
            ("year_end_surge".to_string(), "年底突击收入".to_string()),
            ("round_amounts".to_string(), "整数金额集中".to_string()),
        ];
        let p = place(form, &[m.to_string()], &people(), &checks);
        (p[0].fields.clone(), p[0].text.clone())
    }

    #[test]
    fn each_message_goes_beside_the_field_it_names_first() {
        let f = |form, m| one(form, m).0;
        assert_eq!(
            f(
                "resolve",
                "四次会议应依次召开：两委会议商议（2025-01-05）早于党组织提议（2025-01-06）"
            ),
            ["discussed"]
        );
        assert_eq!(
            f(
                "resolve",
                "决议公开的日期 2025-01-14 早于村民（代表）会议决议的日期 2025-01-15"
            ),
            ["resolution_published"]
        );
        assert_eq!(
            f("resolve", "村民代表会议应有三分之二以上的组成人员参加（村民委员会组织法第二十六条）：应到 30 人，实到 10 人"),
            ["present"]
        );
        assert_eq!(f("resolve", "应到人数应大于 0"), ["members"]);
        assert_eq!(
            f(
                "resolve",
                "决议须经到会人员的过半数通过：到会 24 人，赞成 10 票"
            ),
            ["for"]
        );
        assert_eq!(
            f(
                "resolve",
                "R1-10 的决定金额 9.00 超出计算所得 8.00（只能更少，不能更多）"
            ),
            ["awards_R1-10"]
        );
        assert_eq!(
            f("pay", "发放日期 2025-01-01 早于决议日期 2025-01-15"),
            ["date"]
        );
        assert_eq!(
            f("pay", "R1-1 的发放金额 10.00 应在 0 与决定金额 9.00 之间"),
            ["paid_R1-1"]
        );
        assert_eq!(
            f(
                "publish",
                "公示期结束日期 2025-01-01 早于开始日期 2025-02-01"
            ),
            ["to"]
        );
        assert_eq!(
            f(
                "approve",
                "该村本年度有预警，审核前须逐项填写核实说明：年底突击收入、整数金额集中"
            ),
            ["checks_year_end_surge", "checks_round_amounts"]
        );
        assert_eq!(
            f("send_back", "退回后村级决议须重新录入：请勾选“确认退回”"),
            ["confirm"]
        );
        assert!(f("pay", "当前是“已发放”，不能进行“登记发放”").is_empty());
    }

    #[test]
    fn a_persons_number_is_shown_with_the_name() {
        assert_eq!(
            one("pay", "R1-1 的发放金额 10.00 应在 0 与决定金额 9.00 之间").1,
            "王一（R1-1）的发放金额 10.00 应在 0 与决定金额 9.00 之间"
        );
        assert_eq!(
            one("resolve", "缺少 R1-10 的决定金额").1,
            "缺少 李十（R1-10）的决定金额"
        );
    }
}
