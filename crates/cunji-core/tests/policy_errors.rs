//! Policy files refuse what they do not understand, with the line and a zh-CN reason.

use cunji_core::policy::Policy;

fn err(text: &str) -> String {
    match Policy::parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn refuses_unknown_and_misplaced_keys() {
    let e = err("name = \"x\"\n[incentive]\nrate = \"10%\"\nrat = \"5%\"\n");
    assert_eq!(
        e,
        "第 4 行: 〔incentive〕rat：未知的键 `rat`（拼写错误的键不会被悄悄忽略）"
    );
    let e = err("name = \"x\"\nyear = 2024\n");
    assert!(e.starts_with("第 2 行: year：未知的键"), "{e}");
    let e =
        err("name = \"x\"\n[incentive]\nbasis = \"increase\"\nthreshold = 50000\nrate = \"10%\"\n");
    assert!(
        e.contains("第 4 行") && e.contains("`threshold` 只用于 basis = \"above\""),
        "{e}"
    );
    for (text, wanted) in [
        ("name = \"x\"\n[incentive]\nschedule = \"whole\"\nrate = \"10%\"\ntiers = [ { from = 1, rate = \"1%\" } ]\n", "`rate` 只用于 schedule = \"flat\""),
        ("name = \"x\"\n[incentive]\nrate = \"10%\"\ntier_key = \"level\"\n", "`tier_key` 只用于 schedule = \"whole\""),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
    let e =
        err("name = \"x\"\n[incentive]\nrate = \"10%\"\ntiers = [ { from = 1, rate = \"1%\" } ]\n");
    assert!(e.contains("`tiers` 只用于"), "{e}");
}

#[test]
fn refuses_inconsistent_plans() {
    for (text, wanted) in [
        ("name = \"x\"\n[incentive]\nschedule = \"marginal\"\ntiers = [ { from = 100, rate = \"1%\" }, { from = 100, rate = \"2%\" } ]\n", "严格递增"),
        ("name = \"x\"\n[bands]\nband = [ { name = \"a\" }, { name = \"a\", min = 5 } ]\n", "重复"),
        ("name = \"x\"\n[bands]\nband = [ { name = \"a\" }, { name = \"b\", min = 5 }, { name = \"c\", min = 5 } ]\n", "严格递增"),
        ("name = \"x\"\n[bands]\nband = [ { name = \"a\", min = 1 } ]\n", "第一档不写 min"),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
    let e = err("name = \"x\"\n[bands]\nband = [ { name = \"a\" } ]\n[[target]]\nname = \"t\"\nyear = 2022\nband_at_least = \"b\"\nshare_at_least = \"60%\"\n");
    assert!(e.contains("第 7 行") && e.contains("没有“b”这一档"), "{e}");
    for (text, wanted) in [
        ("name = \"x\"\n[incentive]\nbasis = \"increase_over_year\"\nrate = \"10%\"\n", "base_year"),
        ("name = \"x\"\n[incentive]\nschedule = \"stepped\"\n", "未知的 schedule"),
        ("name = \"x\"\n[incentive]\nmeasure = \"profit\"\nrate = \"10%\"\n", "未知口径"),
        ("name = \"x\"\n[[measure]]\nkey = \"operating_income\"\nterms = { operating_revenue = 1 }\n", "标准口径"),
        ("name = \"x\"\n[[measure]]\nkey = \"m\"\nterms = { operating_revenue = 2 }\n", "-1、0 或 1"),
        ("name = \"x\"\n[incentive]\nrate = \"10%\"\nweights = { mayor = 1 }\n", "未知职务"),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
}

#[test]
fn guards_against_counting_subsidies_as_growth() {
    let e = err("name = \"x\"\n[incentive]\nmeasure = \"total_income\"\nrate = \"10%\"\n");
    assert!(
        e.contains("补助收入") && e.contains("allow_subsidy_in_measure"),
        "{e}"
    );
    let e = err("name = \"x\"\n[[measure]]\nkey = \"m\"\nterms = { subsidy_income = 1 }\n[incentive]\nmeasure = \"m\"\nrate = \"10%\"\n");
    assert!(e.contains("补助收入"), "{e}");
    assert!(Policy::parse("name = \"x\"\n[incentive]\nmeasure = \"net_income\"\nallow_subsidy_in_measure = true\nrate = \"10%\"\n").is_ok());
}

#[test]
fn money_and_rates_are_exact() {
    for (text, wanted) in [
        (
            "name = \"x\"\n[incentive]\nrate = \"10%\"\ncap = 5000.5\n",
            "浮点数",
        ),
        (
            "name = \"x\"\n[incentive]\nrate = \"110%\"\n",
            "应在 0 与 100% 之间",
        ),
        (
            "name = \"x\"\n[incentive]\nrate = \"0.0000001\"\n",
            "整百万分之一",
        ),
        (
            "name = \"x\"\n[incentive]\nrate = \"10%\"\ncap = \"12.345\"\n",
            "金额格式不对",
        ),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
    // A TOML float rate is taken at its written decimal value.
    let p = Policy::parse("name = \"x\"\n[incentive]\nrate = 0.085\ncap = \"1,000.50\"\n").unwrap();
    let plan = p.incentive.unwrap();
    assert_eq!(
        plan.schedule,
        cunji_core::incentive::Schedule::Flat {
            rate: cunji_core::Ppm::from_ppm(85_000)
        }
    );
    assert_eq!(plan.cap, Some(cunji_core::Fen::from_fen(100_050)));
    // Whole ppm however many zeros follow (SPEC §1: the value decides, not the digits).
    let p = Policy::parse("name = \"x\"\n[incentive]\nrate = \"0.12345600\"\n").unwrap();
    assert_eq!(
        p.incentive.unwrap().schedule,
        cunji_core::incentive::Schedule::Flat {
            rate: cunji_core::Ppm::from_ppm(123_456)
        }
    );
    let p = Policy::parse("name = \"x\"\n[incentive]\nrate = \"10.00000%\"\n").unwrap();
    assert_eq!(
        p.incentive.unwrap().schedule,
        cunji_core::incentive::Schedule::Flat {
            rate: cunji_core::Ppm::from_ppm(100_000)
        }
    );
    let e = err("[incentive]\nrate = \"10%\"\n");
    assert!(e.contains("name"), "{e}");
    let e = err("name = \"x\"\n[incentive\n");
    assert!(e.starts_with("第 2 行: TOML 语法错误"), "{e}");
}

#[test]
fn caps_and_tier_starts_may_not_be_negative() {
    let e = err("name = \"x\"\n[incentive]\nrate = \"10%\"\ncap = -1\n");
    assert_eq!(e, "第 4 行: 〔incentive〕cap：封顶不能为负数（-1.00 元）");
    for (text, wanted) in [
        ("name = \"x\"\n[incentive]\nrate = \"10%\"\ncap_by_level = [ { from = 0, cap = \"-0.01\" } ]\n", "封顶不能为负数（-0.01 元）"),
        ("name = \"x\"\n[incentive]\nschedule = \"marginal\"\ntiers = [ { from = -5000, rate = \"1%\" } ]\n", "分档起点不能为负数（-5,000.00 元）"),
        ("name = \"x\"\n[incentive]\nschedule = \"whole\"\ntiers = [ { from = -1, rate = \"1%\" }, { from = 10, rate = \"2%\" } ]\n", "不能为负数"),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
    // Zero is allowed.
    Policy::parse("name = \"x\"\n[incentive]\nrate = \"10%\"\ncap = 0\n").unwrap();
}

#[test]
fn policy_years_bound_reports() {
    let p = Policy::parse("name = \"x\"\nyears = [2022, 2026]\n").unwrap();
    assert!(p.in_force(2022) && p.in_force(2026) && !p.in_force(2027) && !p.in_force(2021));
    let e = err("name = \"x\"\nyears = [2026, 2022]\n");
    assert!(e.contains("years"), "{e}");
}

#[test]
fn policies_read_as_rules() {
    let text = std::fs::read_to_string(format!(
        "{}/../../policies/helan.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let rules = Policy::parse(&text).unwrap().describe_zh();
    assert!(rules.contains(&"计提：按基数所在档的比例乘以全部基数（全额累进）：30,000.00 元起 8%，100,000.00 元起 9%，200,000.00 元起 10%，300,000.00 元起 12%。".to_string()), "{rules:#?}");
    assert!(
        rules.contains(&"封顶：每村不超过 80,000.00 元。".to_string()),
        "{rules:#?}"
    );
    assert!(
        rules.contains(&"书记最多分得奖励总额的 30%。".to_string()),
        "{rules:#?}"
    );
}

#[test]
fn alert_thresholds_are_policy_settings() {
    let p = Policy::parse("name = \"x\"\n[alerts]\nyear_end_share = \"60%\"\nsurge_rate = 3\nsurge_min = 80000\npass_through_days = 30\nsubsidy_share = \"0.8\"\nround_unit = 5000\nround_share = \"70%\"\n").unwrap();
    assert_eq!(p.alerts.year_end_share.ppm(), 600_000);
    assert_eq!(p.alerts.surge_rate.ppm(), 3_000_000);
    assert_eq!(p.alerts.surge_min.fen(), 8_000_000);
    assert_eq!(p.alerts.pass_through_days, 30);
    assert_eq!(p.alerts.round_unit.fen(), 500_000);
    let d = Policy::parse("name = \"x\"\n").unwrap();
    assert_eq!(d.alerts, cunji_core::alerts::AlertSettings::default());
    for (text, wanted) in [
        ("name = \"x\"\n[alerts]\npass_through = 30\n", "未知的键"),
        (
            "name = \"x\"\n[alerts]\nyear_end_share = \"150%\"\n",
            "应在 0 与",
        ),
    ] {
        let e = err(text);
        assert!(e.contains(wanted), "{e}");
    }
}

#[test]
fn a_value_of_the_wrong_kind_is_named_in_chinese_with_its_line() {
    let e = err("name = \"x\"\n[incentive]\nrate = \"10%\"\nmin_months = \"6\"\n");
    assert_eq!(
        e,
        "第 4 行: 〔incentive〕min_months：应为整数，写的是字符串 \"6\""
    );
    let e = err("name = \"x\"\n[incentive]\nrate = \"10%\"\nprorate_by_months = 1\n");
    assert_eq!(
        e,
        "第 4 行: 〔incentive〕prorate_by_months：应为 true 或 false，写的是整数 1"
    );
    let e = err("name = \"x\"\n[incentive]\nrate = true\n");
    assert_eq!(
        e,
        "第 3 行: 〔incentive〕rate：应为数字或字符串，写的是 true"
    );
    let e = err("name = \"x\"\nbands = 5\n");
    assert_eq!(e, "第 2 行: bands：应为表，写的是整数 5");
    let e = err("name = \"x\"\n[bands]\nband = [ { name = \"a\" },\n  { name = \"b\", min = 5, max = 9 } ]\n");
    assert_eq!(
        e,
        "第 4 行: 〔bands〕band：未知的键 `max`（拼写错误的键不会被悄悄忽略）"
    );
    // A value toml cannot hold is still the file's syntax.
    let e = err("name = \"x\"\n[incentive]\nrate = 1e400\n");
    assert!(e.starts_with("第 3 行: TOML 语法错误"), "{e}");
}

#[test]
fn a_check_names_the_line_of_the_value_within_a_list() {
    let e = err("name = \"x\"\n[incentive]\nschedule = \"marginal\"\ntiers = [\n  { from = 0, rate = \"1%\" },\n  { from = 10, rate = \"2%\" },\n  { from = -5, rate = \"3%\" },\n]\n");
    assert_eq!(
        e,
        "第 7 行: 〔incentive〕tiers：分档起点不能为负数（-5.00 元）"
    );
    // A key missing from a section is told at the section's header.
    let e = err("name = \"x\"\n\n[pay_floor]\nminimum = 1\n");
    assert_eq!(e, "第 3 行: 〔pay_floor〕multiple：缺少倍数 multiple，如 3");
}

#[test]
fn a_float_rate_is_read_at_its_shortest_decimal_and_must_be_whole_ppm() {
    let rate = |text: &str| {
        Policy::parse(&format!("name = \"x\"\n[incentive]\nrate = {text}\n"))
            .map(|p| p.incentive.unwrap().schedule)
            .map_err(|e| e.to_string())
    };
    let flat = |ppm| cunji_core::incentive::Schedule::Flat {
        rate: cunji_core::Ppm::from_ppm(ppm),
    };
    assert_eq!(rate("0.1"), Ok(flat(100_000)));
    assert_eq!(rate("1"), Ok(flat(1_000_000)));
    assert_eq!(rate("1e-1"), Ok(flat(100_000)));
    assert!(rate("0.0000001").unwrap_err().contains("整百万分之一"));
}

/// `[contracts] resolution_threshold` (SPEC §16): yuan, default 100,000; negative or unknown keys refused.
#[test]
fn contract_threshold_is_a_policy_setting() {
    let p = Policy::parse("name = \"x\"\n[contracts]\nresolution_threshold = 50000\n").unwrap();
    assert_eq!(p.contracts.resolution_threshold.fen(), 5_000_000);
    let d = Policy::parse("name = \"x\"\n").unwrap();
    assert_eq!(d.contracts.resolution_threshold.fen(), 10_000_000);
    assert!(err("name = \"x\"\n[contracts]\nresolution_threshold = -1\n").contains("不能为负数"));
    assert!(err("name = \"x\"\n[contracts]\nthreshold = 1\n").contains("未知的键"));
    assert!(err("name = \"x\"\n[contracts]\nresolution_threshold = 1.5\n").contains("浮点数"));
}
