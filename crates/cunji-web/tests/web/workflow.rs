//! The reward workflow of SPEC §13, through the pages and the JSON API: each rule refuses with 422 and
//! its message and changes nothing; a step of another role or outside the user's scope is a 403.

use serde_json::{json, Value};

use crate::common::{assert_holds, server, Client, Server};

const BASE: &str = "/workflow/131124100200/2024";
const API: &str = "/api/proposals/131124100200/2024";

/// SPEC §13's resolution body, deciding `p1` for P1 and 2,000.00 for P2.
fn resolve_body(p1: &str) -> Value {
    json!({ "meetings": { "proposed": "2025-01-06", "discussed": "2025-01-08", "reviewed": "2025-01-10", "decided": "2025-01-15" },
        "body": "representatives", "count_by": "adults", "members": 30, "present": 24,
        "for": 20, "against": 3, "abstain": 1, "resolution_published": "2025-01-16",
        "awards": { "P1": p1, "P2": "2000.00" }, "attachments": [] })
}

/// The same resolution as the page's form sends it.
fn resolve_form(p1: &'static str, votes_for: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("proposed", "2025-01-06"),
        ("discussed", "2025-01-08"),
        ("reviewed", "2025-01-10"),
        ("decided", "2025-01-15"),
        ("body", "representatives"),
        ("count_by", "adults"),
        ("members", "30"),
        ("present", "24"),
        ("for", votes_for),
        ("against", "3"),
        ("abstain", "1"),
        ("resolution_published", "2025-01-16"),
        ("awards_P1", p1),
        ("awards_P2", "2000.00"),
    ]
}

/// Asserts a refusal with `status` whose message holds `wanted`, and that the proposal did not move.
async fn refused(c: &mut Client, s: &Server, step: &str, body: Value, status: u16, wanted: &str) {
    let before = s.store.proposal("131124100200", 2024).await.unwrap();
    let (got, answer) = c.post_json(&format!("{API}/{step}"), &body).await;
    assert_eq!(got, status, "{step}: {answer}");
    let message = answer["error"].as_str().unwrap_or_default();
    assert!(message.contains(wanted), "{step}: {message}");
    let after = s.store.proposal("131124100200", 2024).await.unwrap();
    assert_eq!(before, after, "{step} changed the proposal");
}

/// Takes `step` of 东关村's 2024 proposal through the API with `body`, which must succeed.
async fn step_ok(c: &mut Client, step: &str, body: &Value) {
    let (status, answer) = c.post_json(&format!("{API}/{step}"), body).await;
    assert_eq!(status, 200, "{step}: {answer}");
}

/// Resolves the computed proposal (`each` decided for P1 and P2), approves it (its round figures
/// explained) and files it: the township's steps by `town`, the county's by `admin`.
async fn resolve_approve_file(town: &mut Client, admin: &mut Client, each: &str) {
    let mut body = resolve_body(each);
    body["awards"]["P2"] = json!(each);
    step_ok(town, "resolve", &body).await;
    let checks = json!({ "checks": { "round_figures": "合同约定" } });
    step_ok(town, "approve", &checks).await;
    step_ok(admin, "file", &json!({})).await;
}

#[tokio::test]
async fn every_rule_of_the_workflow_through_the_api() {
    let s = server("workflow-api").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let mut acct = Client::signed_in(s.addr, "acct").await;
    // Only the township or the county computes; a village accountant may not.
    refused(
        &mut acct,
        &s,
        "compute",
        json!({}),
        403,
        "由乡镇农经站或县级管理员进行",
    )
    .await;
    let (status, answer) = town.post_json(&format!("{API}/compute"), &json!({})).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("computed")),
        "{answer}"
    );
    // Outside the officer's township: 403 before anything is read.
    let (status, _) = town
        .post_json("/api/proposals/131124101200/2024/compute", &json!({}))
        .await;
    assert_eq!(status, 403);
    // Filing before the resolution: 422, and only the county may file.
    refused(
        &mut admin,
        &s,
        "file",
        json!({}),
        422,
        "当前是“已计算”，不能进行“县级备案”",
    )
    .await;
    refused(
        &mut town,
        &s,
        "resolve",
        json!({ "body": "x" }),
        422,
        "请填写党组织提议日期",
    )
    .await;
    // Each rule of the resolution, broken alone: (fields changed, the rule's words).
    let broken: [(&[(&str, Value)], &str); 6] = [
        (
            &[
                ("for", json!(0)),
                ("against", json!(24)),
                ("abstain", json!(0)),
            ],
            "决议须经到会人员的过半数通过：到会 24 人，赞成 0 票",
        ),
        (
            &[("meetings.discussed", json!("2025-01-05"))],
            "四次会议应依次召开",
        ),
        (
            &[("meetings.proposed", json!("2024-12-20"))],
            "2024 年的收入要到年度结束后才能确定",
        ),
        (
            &[("present", json!(19)), ("for", json!(15))],
            "三分之二以上的组成人员参加",
        ),
        (
            &[
                ("body", json!("villagers")),
                ("count_by", json!("households")),
                ("members", json!(40)),
            ],
            "三分之二以上的户的代表参加",
        ),
        (
            &[("resolution_published", json!("2025-01-14"))],
            "决议公开的日期 2025-01-14 早于",
        ),
    ];
    for (changes, rule) in broken {
        let mut body = resolve_body("2500.00");
        for (path, value) in changes {
            match path.split_once('.') {
                Some((outer, inner)) => body[outer][inner] = value.clone(),
                None => body[*path] = value.clone(),
            }
        }
        refused(&mut town, &s, "resolve", body, 422, rule).await;
    }
    refused(
        &mut town,
        &s,
        "resolve",
        resolve_body("2600.00"),
        422,
        "超出计算所得",
    )
    .await;
    refused(
        &mut admin,
        &s,
        "resolve",
        resolve_body("2500.00"),
        403,
        "由乡镇农经站进行",
    )
    .await;
    let (status, answer) = town
        .post_json(&format!("{API}/resolve"), &resolve_body("2500.00"))
        .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("resolved")),
        "{answer}"
    );
    // The township reviews the resolution: its send-back needs a reason; the county may not send back
    // what the township has not reviewed.
    refused(
        &mut admin,
        &s,
        "send_back",
        json!({ "reason": "x" }),
        403,
        "由乡镇农经站进行",
    )
    .await;
    refused(
        &mut town,
        &s,
        "send_back",
        json!({ "reason": " " }),
        422,
        "退回须写明理由",
    )
    .await;
    let (_, p) = town.get_json(API).await;
    let kinds: Vec<String> = p["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["round_figures"], "{p}");
    refused(
        &mut town,
        &s,
        "approve",
        json!({ "note": "同意" }),
        422,
        "须逐项填写核实说明：整数金额偏多",
    )
    .await;
    let checks =
        json!({ "note": "同意", "checks": { "round_figures": "门面房年租金合同约定 15 万元整" } });
    step_ok(&mut town, "approve", &checks).await;
    // The county sends back what the township approved; the township may not.
    refused(
        &mut town,
        &s,
        "send_back",
        json!({ "reason": "x" }),
        403,
        "由县级管理员进行",
    )
    .await;
    let (status, answer) = admin
        .post_json(
            &format!("{API}/send_back"),
            &json!({ "reason": "签到表缺页" }),
        )
        .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("computed")));
    let (_, p) = town.get_json(API).await;
    assert_eq!(p["awards"][0]["decided"], Value::Null);
    assert_eq!(
        p["resolution"]["present"], 24,
        "the resolution stays in the history"
    );
    let steps: Vec<&str> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["computed", "resolved", "township_approved", "sent_back"]
    );
    assert_eq!(
        p["steps"][2]["data"]["checks"]["round_figures"],
        "门面房年租金合同约定 15 万元整"
    );
    assert_eq!(p["steps"][3]["data"]["reason"], "签到表缺页");
}

#[tokio::test]
async fn the_pages_walk_a_village_through_send_back_to_publication() {
    let s = server("workflow").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    // Growth 50,000 × 10% = 5,000.00, split between secretary P1 and director P2.
    let r = town.post_form(&format!("{BASE}/compute"), &[], true).await;
    assert_eq!(r.status, 303);
    let p = proposal_2024(&s).await;
    assert_eq!(p.pool, cunji_core::Fen::from_fen(500_000));
    let computed: Vec<i64> = p.awards.iter().map(|a| a.computed.fen()).collect();
    assert_eq!(computed, [250_000, 250_000]);
    let r = town
        .post_form(
            &format!("{BASE}/resolve"),
            &resolve_form("2500.00", "12"),
            true,
        )
        .await;
    // Refused: the page again (422) with everything typed and the rule broken beside the form.
    assert_eq!(r.status, 422);
    let page = r.text();
    assert_holds(
        &page,
        &[
            "<ul class=\"flash error form-errors\" id=\"errors-resolve\"><li>决议须经到会人员的过半数通过：到会 24 人，赞成 12 票</li></ul>",
            "name=\"for\" inputmode=\"numeric\" value=\"12\"",
            "name=\"proposed\" placeholder=\"YYYY-MM-DD\" value=\"2025-01-06\"",
        ],
    );
    assert_eq!(
        proposal_2024(&s).await.status,
        cunji_store::Status::Computed
    );
    // Every rule broken is listed, not only the first.
    let mut several = resolve_form("2600.00", "12");
    several[0] = ("proposed", "2024-12-20");
    let page = town
        .post_form(&format!("{BASE}/resolve"), &several, true)
        .await
        .text();
    let errors = crate::common::after(&page, "id=\"errors-resolve\">");
    let errors = &errors[..errors.find("</ul>").unwrap()];
    assert_eq!(errors.matches("<li>").count(), 3, "{errors}");
    assert_holds(
        errors,
        &[
            "2024 年的收入要到年度结束后才能确定",
            "赞成 12 票",
            "2,600.00",
        ],
    );
    // And each beside the field it concerns: the first meeting's date, the votes for, the amount of
    // the person named (by name, with the number).
    let beside = |field: &str| {
        let at = crate::common::after(&page, &format!("name=\"{field}\""));
        let end = at.find("<label").unwrap_or(at.len());
        at[..end].to_string()
    };
    assert!(
        beside("proposed").contains("<p class=\"field-error\" role=\"alert\">党组织提议的日期 2024-12-20 早于 2025 年 1 月 1 日"),
        "{}",
        beside("proposed")
    );
    assert!(beside("for")
        .contains("<p class=\"field-error\" role=\"alert\">决议须经到会人员的过半数通过"));
    assert!(!beside("discussed").contains("field-error"));
    let amounts: Vec<String> = p
        .awards
        .iter()
        .map(|a| format!("awards_{}", a.person))
        .collect();
    let placed: Vec<bool> = amounts
        .iter()
        .map(|f| beside(f).contains("的决定金额 2,600.00 超出计算所得 2,500.00"))
        .collect();
    assert_eq!(placed.iter().filter(|b| **b).count(), 1, "{placed:?}");
    town.get(BASE).await;
    let r = town
        .post_form(
            &format!("{BASE}/resolve"),
            &resolve_form("2500.00", "20"),
            true,
        )
        .await;
    assert!(r.header("location").unwrap().contains("msg="));
    // Only the county files; the officer cannot.
    assert_eq!(
        town.post_form(&format!("{BASE}/file"), &[], true)
            .await
            .status,
        403
    );
    let page = town.get(BASE).await.text();
    assert!(
        page.contains("id=\"send-back\"") && page.contains("data-alert=\"round_figures\""),
        "{page}"
    );
    assert!(
        page.contains("<th>赞成 / 反对 / 弃权</th><td>20 / 3 / 1</td>"),
        "{page}"
    );
    // 退回 asks for confirmation: without it nothing happens and the reason typed is kept.
    let r = town
        .post_form(
            &format!("{BASE}/send_back"),
            &[("reason", "决议公开照片不清楚")],
            true,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_holds(
        &r.text(),
        &["请勾选“确认退回”", ">决议公开照片不清楚</textarea>"],
    );
    assert_eq!(
        proposal_2024(&s).await.status,
        cunji_store::Status::Resolved
    );
    town.get(BASE).await;
    town.post_form(
        &format!("{BASE}/send_back"),
        &[("reason", "决议公开照片不清楚"), ("confirm", "1")],
        true,
    )
    .await;
    assert_eq!(
        proposal_2024(&s).await.status,
        cunji_store::Status::Computed
    );
    town.get(BASE).await;
    town.post_form(
        &format!("{BASE}/resolve"),
        &resolve_form("2500.00", "20"),
        true,
    )
    .await;
    let approve = [
        ("note", "同意"),
        ("checks_round_figures", "租金合同约定整数"),
    ];
    town.post_form(&format!("{BASE}/approve"), &approve, true)
        .await;
    let page = admin.get(BASE).await.text();
    assert!(
        page.contains("<li><strong>整数金额偏多</strong>：租金合同约定整数</li>"),
        "{page}"
    );
    admin
        .post_form(
            &format!("{BASE}/file"),
            &[("note", "饶农备〔2025〕3号")],
            true,
        )
        .await;
    let pay = [
        ("date", "2025-02-10"),
        ("paid_P1", "2500.00"),
        ("paid_P2", "2000.00"),
    ];
    town.get(BASE).await;
    town.post_form(&format!("{BASE}/pay"), &pay, true).await;
    let period = [("from", "2025-02-11"), ("to", "2025-02-10")];
    let r = town
        .post_form(&format!("{BASE}/publish"), &period, true)
        .await;
    assert_eq!(r.status, 422);
    assert_holds(
        &r.text(),
        &[
            "公示期结束日期 2025-02-10 早于开始日期 2025-02-11",
            "value=\"2025-02-10\"",
        ],
    );
    town.get(BASE).await;
    let period = [("from", "2025-02-11"), ("to", "2025-02-20")];
    town.post_form(&format!("{BASE}/publish"), &period, true)
        .await;
    let p = proposal_2024(&s).await;
    assert_eq!(p.status, cunji_store::Status::Published);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "computed",
            "resolved",
            "sent_back",
            "resolved",
            "township_approved",
            "county_filed",
            "paid",
            "published"
        ]
    );
    assert_eq!(p.steps[5].actor, "admin");
    assert_eq!(p.steps[2].detail, "退回：决议公开照片不清楚");
    // The public page shows the decided amounts and the explanation.
    let mut anon = Client::new(s.addr);
    let page = anon.get("/public/village/131124100200").await.text();
    assert!(
        page.contains("张建国") && page.contains("2,500.00") && page.contains("2,000.00"),
        "{page}"
    );
    // The calculation as villagers read it: no policy keys, no person ids (SPEC §15).
    assert!(
        page.contains("<li>比 2023 年的 100,000.00 元增加 50,000.00 元。</li>")
            && page.contains("<li>张建国（书记）权重 1，分得 2,500.00 元。</li>"),
        "{page}"
    );
    assert!(
        page.contains("<span id=\"verified-2024\">与账簿一致</span>"),
        "{page}"
    );
    let print = crate::common::after(&page, "id=\"fingerprint-2024\">");
    assert!(
        print[..12].bytes().all(|b| b.is_ascii_hexdigit()) && print[12..].starts_with("</strong>"),
        "{page}"
    );
    // The notice gives the period, the same fingerprint and room for the stamp.
    assert!(page.contains("公示期 2025-02-11 至 2025-02-20"), "{page}");
    let notice = crate::common::notice_page(s.addr, "131124100200").await;
    assert_holds(&notice, &["公示期：2025-02-11 至 2025-02-20", "（盖章）"]);
    let on_notice = crate::common::after(&notice, "id=\"notice-fingerprint\">");
    assert_eq!(&print[..12], &on_notice[..12]);
    assert!(
        !page.contains("basis") && !page.contains("P1（") && !page.contains("〔"),
        "{page}"
    );
}

#[tokio::test]
async fn new_figures_send_an_unpaid_proposal_back_and_show_an_overpayment_after_payment() {
    let s = server("sendback").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    town.post_form(&format!("{BASE}/compute"), &[], true).await;
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let earlier = [
        ("date", "2023-12-31"),
        ("account", "operating_revenue"),
        ("amount", "1000"),
    ];
    acct.post_entry(&earlier, true).await;
    let p = proposal_2024(&s).await;
    assert_eq!(p.status, cunji_store::Status::Stale);
    assert!(p.steps.last().unwrap().detail.contains("退回重新计算"));
    // Recomputed on the new figures: growth 49,000 → 4,900.00, then walked to payment.
    step_ok(&mut town, "compute", &json!({})).await;
    assert_eq!(proposal_2024(&s).await.pool.fen(), 490_000);
    let mut admin = Client::signed_in(s.addr, "admin").await;
    resolve_approve_file(&mut town, &mut admin, "2450.00").await;
    let over = json!({ "date": "2025-02-10", "paid": { "P1": "2450.01" } });
    let too_much = "P1 的发放金额 2,450.01 应在 0 与决定金额 2,450.00 之间";
    refused(&mut town, &s, "pay", over.clone(), 422, too_much).await;
    refused(&mut admin, &s, "pay", over, 403, "由乡镇农经站进行").await;
    let paid = json!({ "date": "2025-02-10", "paid": { "P1": "2450.00", "P2": "2450.00" } });
    step_ok(&mut town, "pay", &paid).await;
    let backwards = json!({ "from": "2025-02-11", "to": "2025-02-10" });
    let order = "公示期结束日期 2025-02-10 早于开始日期 2025-02-11";
    refused(&mut town, &s, "publish", backwards, 422, order).await;
    let period = json!({ "from": "2025-02-11", "to": "2025-02-20" });
    refused(
        &mut admin,
        &s,
        "publish",
        period.clone(),
        403,
        "由乡镇农经站进行",
    )
    .await;
    step_ok(&mut town, "publish", &period).await;
    // A correction of 2024 after payment: growth 49,000 − 9,000 = 40,000 → pool 4,000.00 < 4,900.00
    // paid; each may keep 2,000.00, so 450.00 each is owed back. The paid proposal stays as it was.
    let fix = [
        ("date", "2024-12-30"),
        ("account", "operating_revenue"),
        ("amount", "-9000"),
    ];
    acct.post_entry(&fix, true).await;
    let (_, p) = town.get_json(API).await;
    assert_eq!(p["status"], "published");
    // Villagers read that the figures changed, with both pools.
    let public = crate::common::public_page(s.addr, "131124100200").await;
    assert_holds(
        &public,
        &[
            "公示后账目有变动，下列数字与公示时不同",
            "<tr><td>计奖基数（增长额）</td><td class=\"num\">49,000.00</td><td class=\"num\">40,000.00</td></tr>",
            "<tr><td>奖励总额上限</td><td class=\"num\">4,900.00</td><td class=\"num\">4,000.00</td></tr>",
            "多发部分按规定追回",
            "发放日期 2025-02-10",
        ],
    );
    assert!(!public.contains("与账簿一致"), "{public}");
    // The notice says so too, and never that the figures are unchanged.
    let notice = crate::common::notice_page(s.addr, "131124100200").await;
    assert_holds(
        &notice,
        &[
            "发放日期：2025-02-10",
            "id=\"notice-changed\"",
            "公示时 4,900.00 元",
        ],
    );
    assert!(
        !notice.contains("相符") && !notice.contains("未被改动"),
        "{notice}"
    );
    assert_eq!(p["overpayment"], json!({ "P1": "450.00", "P2": "450.00" }));
    let page = admin.get(BASE).await.text();
    assert!(
        page.contains("id=\"owed\"") && page.contains("id=\"recover\""),
        "{page}"
    );
    // The county records the recovery; no more than is owed.
    let (status, answer) = town
        .post_json(
            &format!("{API}/recover"),
            &json!({ "date": "2025-03-01", "recovered": { "P1": "450.00" } }),
        )
        .await;
    assert_eq!(status, 403, "{answer}");
    let too_much = json!({ "date": "2025-03-01", "recovered": { "P1": "450.01" } });
    refused(
        &mut admin,
        &s,
        "recover",
        too_much,
        422,
        "不超过应追回的 450.00",
    )
    .await;
    let back = json!({ "date": "2025-03-01", "recovered": { "P1": "450.00" } });
    step_ok(&mut admin, "recover", &back).await;
    let (_, p) = town.get_json(API).await;
    assert_eq!(p["overpayment"], json!({ "P2": "450.00" }));
    // The county's dashboard lists the village until all is recovered.
    let dash = admin.get("/dashboard?year=2024").await.text();
    assert!(
        dash.contains("id=\"overpaid\"") && dash.contains("450.00"),
        "{dash}"
    );
    assert_eq!(p["awards"][0]["recovered"], "450.00");
    // Once the rest is recovered the list is gone: what the dashboard kept of the last view
    // (its memo of this data version) does not outlive the write.
    let rest = json!({ "date": "2025-03-02", "recovered": { "P2": "450.00" } });
    step_ok(&mut admin, "recover", &rest).await;
    let dash = admin.get("/dashboard?year=2024").await.text();
    assert!(!dash.contains("id=\"overpaid\""), "{dash}");
}

/// Uploads a document to 东关村's 2024 proposal from its page's form.
async fn attach(c: &mut Client, name: &str, bytes: &[u8]) -> crate::common::Reply {
    c.post_file(
        &format!("{BASE}/attachments"),
        None,
        &[],
        ("file", name, bytes),
    )
    .await
}

/// The stored proposal of 131124100200 for 2024.
async fn proposal_2024(s: &Server) -> cunji_store::Proposal {
    s.store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .expect("a proposal")
}

#[tokio::test]
async fn to_do_lists_open_on_each_roles_work_and_count_every_status() {
    let s = server("todo").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    step_ok(&mut town, "compute", &json!({})).await;
    // The township's own work: 东关村 awaits its resolution.
    let page = town.get("/workflow?year=2024").await.text();
    assert!(page.contains(">东关村</a>"), "{page}");
    assert!(
        page.contains("data-status=\"computed\">待村级决议 <strong>1</strong>"),
        "{page}"
    );
    // The county's own work is filing: nothing yet; 大迁民村 has no proposal.
    let page = admin.get("/workflow?year=2024").await.text();
    assert!(page.contains("没有符合条件的方案"), "{page}");
    assert!(
        page.contains("data-status=\"none\">未生成方案 <strong>1</strong>"),
        "{page}"
    );
    let page = admin.get("/workflow?year=2024&status=none").await.text();
    assert!(
        page.contains(">大迁民村</a>") && !page.contains(">东关村</a>"),
        "{page}"
    );
    // A township chosen as the region lists its villages only.
    let page = admin
        .get("/workflow?year=2024&status=all&region=131124101000")
        .await
        .text();
    assert!(
        page.contains(">大迁民村</a>") && !page.contains(">东关村</a>"),
        "{page}"
    );
    let dash = admin.get("/dashboard?year=2024").await.text();
    assert!(
        dash.contains("data-status=\"computed\">待村级决议 <strong>1</strong>"),
        "{dash}"
    );
    assert!(!dash.contains("id=\"overpaid\""), "{dash}");
}

#[tokio::test]
async fn documents_are_uploaded_listed_with_their_hash_and_served_within_scope() {
    let s = server("documents").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let pdf: &[u8] = b"%PDF-1.7\n%scanned minutes\n%%EOF\n";
    // Nothing to attach to before the proposal exists.
    town.get(BASE).await;
    let r = attach(&mut town, "会议记录.pdf", pdf).await;
    assert!(r.header("location").unwrap().contains("err="));
    step_ok(&mut town, "compute", &json!({})).await;
    town.get(BASE).await;
    let r = attach(&mut town, "会议记录.pdf", pdf).await;
    assert!(
        r.header("location").unwrap().contains("msg="),
        "{:?}",
        r.header("location")
    );
    let r = town
        .post_file(
            &format!("{BASE}/attachments"),
            None,
            &[],
            ("file", "决议.docx", b"PK\x03\x04"),
        )
        .await;
    assert!(r.header("location").unwrap().contains("err="));
    // The token must come first, and be the session's.
    let r = town
        .post_file(
            &format!("{BASE}/attachments"),
            Some("0000"),
            &[],
            ("file", "x.pdf", pdf),
        )
        .await;
    assert_eq!(r.status, 403);
    let page = town.get(BASE).await.text();
    let sha = cunji_core::columns::hex(&<sha2::Sha256 as sha2::Digest>::digest(pdf));
    assert!(
        page.contains("会议记录.pdf") && page.contains(&sha),
        "{page}"
    );
    let p = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap();
    let docs = s.store.attachments(p.id).await.unwrap();
    assert_eq!(docs.len(), 1);
    let link = format!("{BASE}/attachments/{}", docs[0].id);
    // The village's accountant may read it: a download, never a page of this site.
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let r = acct.get(&link).await;
    assert_eq!((r.status, r.body.as_slice()), (200, pdf));
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    // Outside the user's scope, or not signed in: not served.
    admin
        .post_json("/api/proposals/131124101200/2024/compute", &json!({}))
        .await;
    admin.get("/workflow/131124101200/2024").await;
    let other = "/workflow/131124101200/2024/attachments";
    admin
        .post_file(other, None, &[], ("file", "纪要.pdf", pdf))
        .await;
    let q = s
        .store
        .proposal("131124101200", 2024)
        .await
        .unwrap()
        .unwrap();
    let theirs = s.store.attachments(q.id).await.unwrap()[0].id;
    assert_eq!(town.get(&format!("{other}/{theirs}")).await.status, 403);
    assert_eq!(
        town.get(&format!("{BASE}/attachments/{theirs}"))
            .await
            .status,
        404
    );
    assert_eq!(Client::new(s.addr).get(&link).await.status, 303);
    let (_, api) = town.get_json(API).await;
    assert_eq!(api["attachments"][0]["sha256"], sha.as_str());
    assert_eq!(api["attachments"][0]["size"], pdf.len());
    assert_eq!(api["attachments"][0]["url"], link.as_str());
    assert_eq!(s.store.verify_audit().await.unwrap(), Vec::<String>::new());
    // A village accountant keeps the books only: refused, nothing stored.
    acct.get(BASE).await;
    let r = attach(&mut acct, "收据.pdf", pdf).await;
    assert_eq!(r.status, 403);
    assert_eq!(s.store.attachments(p.id).await.unwrap().len(), 1);
    // Nothing is attached to a paid reward: it is history.
    resolve_approve_file(&mut town, &mut admin, "2500.00").await;
    let paid = json!({ "date": "2025-02-10" });
    step_ok(&mut town, "pay", &paid).await;
    let page = town.get(BASE).await.text();
    assert!(
        !page.contains("id=\"upload-form\""),
        "no upload form once paid: {page}"
    );
    let r = attach(&mut town, "补充材料.pdf", pdf).await;
    let location = r.header("location").unwrap_or_default().to_string();
    assert!(location.contains("err="), "{location}");
    assert_eq!(s.store.attachments(p.id).await.unwrap().len(), 1);
}

/// The acceptance sequence (SPEC §13, versioned policies): compute, resolve, approve, file,
/// pay, publish; then the county saves a policy with a different rate. The paid reward, its public
/// page, its notice and its overpayment stay exactly as they were; an unpaid proposal whose amounts
/// the new rate changes goes back to `stale` with both amounts shown; one whose amounts do not
/// change stays where it is. Runs on SQLite and, with `CUNJI_TEST_PG`, on PostgreSQL.
#[tokio::test]
async fn a_policy_saved_after_payment_changes_nothing_decided() {
    let s = server("policy-after-pay").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    step_ok(&mut town, "compute", &json!({})).await;
    resolve_approve_file(&mut town, &mut admin, "2500.00").await;
    let paid = json!({ "date": "2025-02-10", "paid": { "P1": "2500.00", "P2": "2500.00" } });
    step_ok(&mut town, "pay", &paid).await;
    let period = json!({ "from": "2025-02-11", "to": "2025-02-20" });
    step_ok(&mut town, "publish", &period).await;
    // Another township's village, computed by the county and not yet decided: 4,000.00 at 10%.
    let other = "/api/proposals/131124101200/2024";
    assert_eq!(
        admin
            .post_json(&format!("{other}/compute"), &json!({}))
            .await
            .0,
        200
    );

    let public_before = crate::common::public_page(s.addr, "131124100200").await;
    let notice_before = crate::common::notice_page(s.addr, "131124100200").await;
    let (_, api_before) = town.get_json(API).await;
    assert_holds(
        &public_before,
        &[
            "<span id=\"verified-2024\">与账簿一致</span>",
            "发放日期 2025-02-10",
            "公示期 2025-02-11 至 2025-02-20",
        ],
    );
    assert_eq!(api_before["pool"], "5000.00");
    assert_eq!(api_before["overpayment"], Value::Null);
    assert_eq!(api_before["payment_date"], "2025-02-10");
    assert!(
        api_before["trace"][0]
            .as_str()
            .unwrap()
            .starts_with("按政策第 "),
        "{api_before}"
    );

    // The county halves the rate: 5% would allow 2,500.00 in all, below the 5,000.00 paid.
    let halved = crate::common::POLICY.replace("rate = \"10%\"", "rate = \"5%\"");
    // First the county sees what the new rate changes: both villages' pools halve, and the unpaid
    // proposal will be sent back; nothing is saved until it confirms.
    let confirm = admin
        .post_form("/policy", &[("source", halved.as_str())], true)
        .await
        .text();
    assert_holds(
        &confirm,
        &[
            "<strong id=\"changed-count\">2</strong> 个村",
            "<li>大迁民村 2024 年：奖励总额上限 4,000.00 元 → 2,000.00 元</li>",
        ],
    );
    assert_eq!(admin.get_json(other).await.1["status"], "computed");
    let r = admin
        .post_form(
            "/policy",
            &[("source", halved.as_str()), ("confirm", "1")],
            true,
        )
        .await;
    let flash = r.header("location").unwrap_or_default();
    assert!(!flash.contains("err="), "{flash}");

    assert_eq!(
        crate::common::public_page(s.addr, "131124100200").await,
        public_before
    );
    assert_eq!(
        crate::common::notice_page(s.addr, "131124100200").await,
        notice_before
    );
    let (_, api_after) = town.get_json(API).await;
    for key in [
        "status",
        "pool",
        "awards",
        "overpayment",
        "payment_date",
        "notice",
        "policy_id",
        "trace",
    ] {
        assert_eq!(api_after[key], api_before[key], "{key}");
    }
    let page = admin.get(BASE).await.text();
    assert!(!page.contains("id=\"owed\""), "{page}");
    assert_holds(&page, &["已发放、已公示的奖励始终按计算时的政策版本核对"]);
    let dashboard = admin.get("/dashboard?year=2024").await.text();
    assert!(!dashboard.contains("id=\"overpaid\""), "{dashboard}");

    // The unpaid proposal went back, with both amounts side by side.
    let (_, p) = admin.get_json(other).await;
    assert_eq!(p["status"], "stale");
    assert_eq!(p["pool"], "4000.00");
    assert_eq!(p["current"]["pool"], "2000.00");
    assert_eq!(p["current"]["awards"], json!({ "P3": "2000.00" }));
    let last = p["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["step"], "stale");
    assert_eq!(last["data"]["pool_before"], "4000.00");
    assert_eq!(last["data"]["pool_after"], "2000.00");
    let page = admin.get("/workflow/131124101200/2024").await.text();
    assert_holds(
        &page,
        &["id=\"compare\"", "<tr><td>奖励总额上限</td><td class=\"num\">4,000.00</td><td class=\"num\">2,000.00</td></tr>", "<tr><td>王志强</td><td class=\"num\">4,000.00</td><td class=\"num\">2,000.00</td></tr>"],
    );

    // Recomputed under the new version; a later policy that changes no amount leaves it computed.
    assert_eq!(
        admin
            .post_json(&format!("{other}/compute"), &json!({}))
            .await
            .0,
        200
    );
    let renamed = halved.replace("10万以上占比", "十万以上村占比");
    let r = admin
        .post_form(
            "/policy",
            &[("source", renamed.as_str()), ("confirm", "1")],
            true,
        )
        .await;
    assert!(!r.header("location").unwrap_or_default().contains("err="));
    let (_, p) = admin.get_json(other).await;
    assert_eq!(
        (p["status"].as_str(), p["pool"].as_str()),
        (Some("computed"), Some("2000.00"))
    );
    assert_eq!(
        crate::common::public_page(s.addr, "131124100200").await,
        public_before
    );
}
