//! The demo county's contracts and asset register (SPEC §16), in 大尹村镇: land let on yearly rents
//! with their receipts, two of them unpaid in 2024 (arrears), a building whose lease ends in February
//! 2025 without successor (expiring), a new lease far below its peers' rent per 亩 (below_peers), and
//! an idle asset bought with a subsidy (idle_asset). The rewards the demo walks through the workflow
//! are in 饶阳镇 and keep their figures.

use std::collections::BTreeSet;

/// The three import files and the receipts (an entries file naming the contracts).
pub struct ContractFiles {
    pub assets: String,
    pub contracts: String,
    pub receipts: String,
}

const TOWNSHIP: &str = "131124101";

/// The files for the villages of `regions_csv` (the demo's register, with its merges) and
/// `grants_csv` (the demo's grants).
pub fn generate(regions_csv: &str, grants_csv: &str) -> ContractFiles {
    let mut merged = BTreeSet::new();
    let mut villages = Vec::new();
    for line in regions_csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        if let Some(p) = cells.get(2) {
            merged.extend(p.split(';').filter(|s| !s.is_empty()).map(str::to_string));
        }
        let code = cells[0];
        if code.starts_with(TOWNSHIP) && !code.ends_with("000") {
            villages.push(code.to_string());
        }
    }
    villages.retain(|v| !merged.contains(v));
    villages.truncate(8);
    let mut f = ContractFiles {
        assets: "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status\n".into(),
        contracts: "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account\n".into(),
        receipts: "village,date,account,amount,memo,contract\n".into(),
    };
    let people = [
        "王建国",
        "李春生",
        "张秋菊",
        "刘满仓",
        "陈玉兰",
        "杨志强",
        "赵长海",
        "周桂芳",
    ];
    for (i, v) in villages.iter().enumerate() {
        let mu = 10 + 2 * i as i64;
        let rent = 800 * mu + 50 * i as i64;
        f.assets.push_str(&format!(
            "L{i},{v},land,村南耕地,{mu},亩,,2000-01-01,,let\n"
        ));
        f.contracts.push_str(&format!(
            "Z{i},{v},{},,L{i},contracting,2023-03-01,2023-03-01,2028-02-29,2023-02-20,{rent},03-01,,,contracting_income\n",
            people[i % people.len()]
        ));
        for year in [2023, 2024] {
            // Two villages did not collect their 2024 rent: arrears of some 300 days.
            if year == 2024 && (i == 2 || i == 5) {
                continue;
            }
            f.receipts.push_str(&format!(
                "{v},{year}-03-05,contracting_income,{rent},土地承包费,Z{i}\n"
            ));
        }
    }
    if let Some(v) = villages.first() {
        // A warehouse lease ending 46 days after the 2024 report date, with no lease after it.
        f.assets.push_str(&format!(
            "W0,{v},building,临街仓库,200,平方米,80000,2015-06-01,,let\n"
        ));
        f.contracts.push_str(&format!(
            "E0,{v},饶阳县顺达物流有限公司,91131124MA0XXXX12X,W0,lease,2022-02-10,2022-02-16,2025-02-15,2022-01-20,6000,03-01,,,operating_revenue\n"
        ));
        for year in [2022, 2023, 2024] {
            f.receipts.push_str(&format!(
                "{v},{year}-03-02,operating_revenue,6000,仓库租金,E0\n"
            ));
        }
    }
    if let Some(v) = villages.get(1) {
        // 20 亩 at 300 a 亩 against peers at some 800: below half the median.
        f.assets
            .push_str(&format!("N1,{v},land,河滩地,20,亩,,2000-01-01,,let\n"));
        f.contracts.push_str(&format!(
            "B1,{v},孙二虎,,N1,contracting,2024-05-01,2024-05-01,2029-04-30,2024-04-20,6000,,,,contracting_income\n"
        ));
        f.receipts.push_str(&format!(
            "{v},2024-05-05,contracting_income,6000,河滩地承包费,B1\n"
        ));
    }
    // A subsidy asset left idle: the first grant of the township before 2024.
    let grant = grants_csv.lines().skip(1).find_map(|l| {
        let c: Vec<&str> = l.split(',').collect();
        let year: i32 = c.get(2)?.parse().ok()?;
        (c.get(1)?.starts_with(TOWNSHIP) && !merged.contains(c[1]) && year < 2024)
            .then(|| (c[0].to_string(), c[1].to_string(), year))
    });
    if let Some((g, v, year)) = grant {
        f.assets.push_str(&format!(
            "S1,{v},facility,扶贫车间设备,1,套,50000,{year}-10-01,{g},idle\n"
        ));
    }
    f
}
