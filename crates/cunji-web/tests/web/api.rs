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
