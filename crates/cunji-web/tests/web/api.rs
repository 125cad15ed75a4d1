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
