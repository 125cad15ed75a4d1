//! The JSON API and its description.

use crate::common::{server, Client};

#[tokio::test]
async fn the_api_and_its_description() {
    let s = server("api").await;
    let mut c = Client::new(s.addr);
    let doc: serde_json::Value =
        serde_json::from_slice(&c.get("/api/openapi.json").await.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/api/report",
        "/api/entries",
        "/api/entries/{id}/reverse",
        "/api/villages/{code}",
        "/api/proposals/{code}/{year}",
        "/api/proposals/{code}/{year}/{step}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    c.login("town").await;
    let report: serde_json::Value =
        serde_json::from_slice(&c.get("/api/report?year=2024").await.body).unwrap();
    assert_eq!(report["regions"][0]["code"], "131124100000");
    assert_eq!(report["villages"].as_array().unwrap().len(), 2);
    assert_eq!(report["villages"][0]["incentive"]["pool"], "5000.00");
    let session: serde_json::Value =
        serde_json::from_slice(&c.get("/api/session").await.body).unwrap();
    let token = session["csrf"].as_str().unwrap().to_string();
    let r = c.request("POST", "/api/entries", Some("application/json"), br#"{"village":"131124100200","date":"2024-13-01","account":"other_income","amount":"5"}"#, &[("X-CSRF-Token", &token)]).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("不存在"));
    let health = c.get("/healthz").await;
    assert_eq!(health.status, 200);
}

/// Issue #32 item 7: axum's own refusals (a path or query that does not parse, bad JSON, a wrong
/// content type) answer in Chinese, as JSON on /api/.
#[tokio::test]
async fn framework_refusals_answer_in_chinese_json() {
    let s = crate::common::server("api-refusals").await;
    let mut admin = crate::common::Client::signed_in(s.addr, "admin").await;
    let session = admin.get("/api/session").await;
    let token: serde_json::Value = serde_json::from_slice(&session.body).unwrap();
    let token = token["csrf"].as_str().unwrap().to_string();
    let english = [
        "Cannot parse",
        "Failed to",
        "Expected request",
        "deserialize",
    ];
    let check = |what: &str, r: &crate::common::Reply, status: u16, zh: &str| {
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{what}: {:?}",
            r.headers
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
        let e = v["error"].as_str().unwrap_or_default();
        assert!(e.contains(zh), "{what}: {e}");
        for word in english {
            assert!(!r.text().contains(word), "{what}: {}", r.text());
        }
    };
    let csrf = [("X-CSRF-Token", token.as_str())];
    let r = admin
        .request(
            "POST",
            "/api/entries/abc/reverse",
            Some("application/json"),
            b"{}",
            &csrf,
        )
        .await;
    check("path", &r, 400, "网址中的参数格式不对");
    let r = admin.get("/api/villages/131124100200?year=abc").await;
    check("query", &r, 400, "查询参数格式不对");
    let r = admin
        .request(
            "POST",
            "/api/entries",
            Some("application/json"),
            b"{",
            &csrf,
        )
        .await;
    check("bad JSON", &r, 400, "不是有效的 JSON");
    let r = admin
        .request("POST", "/api/entries", Some("text/plain"), b"{}", &csrf)
        .await;
    check("content type", &r, 415, "内容类型不对");
    let r = admin
        .request(
            "POST",
            "/api/entries",
            Some("application/json"),
            b"{}",
            &csrf,
        )
        .await;
    check("missing field", &r, 422, "字段");
    let r = admin.get("/api/no-such-thing").await;
    check("unknown address", &r, 404, "未找到");
}

/// Each kind of store error answers with its own status (issue #34 item 3): closing a closed year
/// is a conflict, a missing entry 404, and a database that cannot answer is 503 — not "sign in".
#[tokio::test]
async fn store_errors_answer_with_their_own_status() {
    let s = server("api-errors").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    s.store
        .close_year("131124100200", 2023, "admin")
        .await
        .unwrap();
    let entry = serde_json::json!({
        "village": "131124100200", "date": "2023-05-01", "account": "other_income", "amount": "5"
    });
    // An entry in a closed year is a row error of the input, beside its date (422)…
    let (status, body) = admin.post_json("/api/entries", &entry).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["rows"][0]["message"],
        "村 131124100200 的 2023 年已结账，不能再记账（须县级管理员写明理由后重新开账）"
    );
    // …closing it again is a conflict with its state, and a missing entry is not found.
    match s.store.close_year("131124100200", 2023, "admin").await {
        Err(cunji_store::StoreError::Conflict(m)) => {
            assert_eq!(m, "村 131124100200 的 2023 年已经结账")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let (status, body) = admin
        .post_json(
            "/api/entries/999999/reverse",
            &serde_json::json!({ "date": "2024-05-01", "reason": "重复录入" }),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "没有编号为 999999 的分录");
    // The database goes away: the signed-in user is told so, not sent to the login page.
    s.store.clone().close().await;
    let page = admin.get("/dashboard").await;
    assert_eq!(page.status, 503);
    assert!(
        page.text().contains("数据库暂时无法访问"),
        "{}",
        page.text()
    );
    let (status, body) = admin.get_json("/api/session").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body["error"],
        "数据库暂时无法访问，请稍后再试；如果一再出现，请告诉管理员"
    );
}
