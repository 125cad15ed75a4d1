//! Workflow steps taken at the same moment by several officials (two browser tabs, a double click):
//! each step is recorded once, and only the first of the racing requests takes it.

mod common;

use common::store_with;
use cunji_core::workflow::Action;
use cunji_store::workflow::StepRecord;
use cunji_store::Status;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n";
const VILLAGE: &str = "110101001001";
const POLICY: &str = "name = \"测试政策\"\n[incentive]\nrate = \"10%\"\n";

#[tokio::test]
async fn racing_officials_take_each_workflow_step_once() {
    let (store, _, dir) = store_with("race", REGIONS).await;
    let policy_id = store
        .save_policy("测试政策", POLICY, true, "test")
        .await
        .unwrap()
        .id;
    let id = common::resolved_proposal(&store, policy_id).await;
    for (action, to) in [
        (Action::Approve, Status::TownshipApproved),
        (Action::File, Status::CountyFiled),
    ] {
        let mut racers = Vec::new();
        for i in 0..8 {
            let store = store.clone();
            racers.push(tokio::spawn(async move {
                let record = StepRecord {
                    detail: format!("第 {i} 位经办人"),
                    data: serde_json::json!({}),
                };
                store.take_step(id, action, &record, "test").await
            }));
        }
        let mut taken = Vec::new();
        for r in racers {
            if let Ok(status) = r.await.unwrap() {
                taken.push(status);
            }
        }
        assert_eq!(taken, vec![to], "{action:?} → {to:?}");
    }
    let p = store.proposal(VILLAGE, 2024).await.unwrap().unwrap();
    assert_eq!(p.status, Status::CountyFiled);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        vec![
            Status::Computed.key(),
            Status::Resolved.key(),
            Status::TownshipApproved.key(),
            Status::CountyFiled.key()
        ]
    );
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
