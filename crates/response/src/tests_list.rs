//! The reduction list, plans, notices and CAP alerts, against hand-worked expectations.

use chrono::{Duration, FixedOffset, TimeZone};

use crate::*;

/// Valid credit codes made with the GB 32100-2015 check character (see `credit_codes_check_their_digit`).
fn code(n: u32) -> String {
    let body = format!("91411100MA{n:07}");
    let chars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    let w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: usize = body.chars().zip(w).map(|(c, w)| chars.find(c).unwrap() * w).sum();
    format!("{body}{}", chars.as_bytes()[(31 - sum % 31) % 31] as char)
}

const HEADER: &str = "credit_code,name,county,industry,grade,guarantee_reason,whitelist_reason,contact,endpoint,line,capacity_eia,capacity_permit,output_last_year,so2_kg_d,nox_kg_d,pm_kg_d,vocs_kg_d,trucks_per_day,measure_yellow,measure_orange,measure_red";

fn row(
    c: u32,
    [name, industry, grade]: [&str; 3],
    flags: (&str, &str),
    line: &str,
    e: [u32; 4],
    m: [&str; 3],
) -> String {
    format!(
        "{},{name},源汇区,{industry},{grade},{},{},张三 0395-1,file:/tmp/x,{line},100,90,80,{},{},{},{},10,{},{},{}",
        code(c),
        flags.0,
        flags.1,
        e[0],
        e[1],
        e[2],
        e[3],
        m[0],
        m[1],
        m[2]
    )
}

pub(crate) fn sample_list() -> String {
    [
        HEADER.to_owned(),
        // Cement B: blank measures come from the grade-rule table (orange = cut:20;trucks:guo5).
        row(1, ["甲水泥", "水泥熟料", "B"], ("", ""), "1#线", [100, 1000, 200, 0], ["", "", ""]),
        // Cement D: stop everywhere, from the table.
        row(2, ["乙水泥", "水泥熟料", "D"], ("", ""), "1#线", [50, 500, 100, 0], ["", "", ""]),
        // A foundry C with its own measures (一厂一策), two lines.
        row(3, ["丙铸造", "铸造", "C"], ("", ""), "熔炼", [10, 100, 50, 20], ["cut:30", "cut:50", "stop"]),
        row(3, ["丙铸造", "铸造", "C"], ("", ""), "涂装", [0, 0, 10, 200], ["none", "cut:50", "stop"]),
        // A-grade and 白名单 are self-directed; 保障类 exempt.
        row(4, ["丁包装", "包装印刷", "A"], ("", ""), "印刷", [0, 0, 0, 300], ["", "", ""]),
        row(5, ["戊食品", "食品加工", "非重点"], ("", "民生保障"), "烘焙", [5, 50, 20, 10], ["", "", ""]),
        row(6, ["己热电", "热电", "B"], ("居民供暖", ""), "锅炉", [400, 800, 100, 0], ["", "", ""]),
    ]
    .join("\n")
}

#[test]
fn credit_codes_check_their_digit() {
    // Two independently published codes.
    assert!(CreditCode::parse("91350100M000100Y43").is_ok());
    assert!(CreditCode::parse("91110000600037341L").is_ok());
    assert!(CreditCode::parse("91350100M000100Y44").unwrap_err().contains("should be `3`"));
    assert!(CreditCode::parse("9135010OM000100Y43").is_err(), "O is not in the alphabet");
    assert!(CreditCode::parse("91350100M000100Y4").is_err());
}

#[test]
fn a_csv_list_imports_and_groups_lines_by_enterprise() {
    let list = ReductionList::from_csv(sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    assert_eq!((list.enterprises.len(), list.line_count()), (6, 7));
    let foundry = &list.enterprises[2];
    assert_eq!((foundry.name.as_str(), foundry.lines.len(), foundry.grade), ("丙铸造", 2, Grade::C));
    // Baseline capacity = min(EIA 100, permit 90, last year 80).
    assert_eq!(foundry.lines[0].baseline_capacity(), 80.0);
    assert_eq!(list.enterprises[5].guarantee.as_deref(), Some("居民供暖"));
}

#[test]
fn every_import_error_is_located_and_nothing_is_returned() {
    let mut text = sample_list();
    text.push('\n');
    // Bad code, bad grade, non-number, bad measure, and a blank measure no rule covers.
    text += &row(7, ["庚", "砖瓦窑", "C"], ("", ""), "窑", [1, 1, 1, 1], ["", "cut:20", "stop"]);
    text += "\n";
    text += &row(8, ["辛", "铸造", "E"], ("", ""), "线", [1, 1, 1, 1], ["halt", "stop", "stop"]);
    text += "\n91411100MA00000001,壬,源汇区,铸造,C,,,x,,线,1,1,1,abc,1,1,1,1,stop,stop,stop\n";
    let err = ReductionList::from_csv(text.as_bytes(), &GradeRuleTable::builtin()).unwrap_err();
    let ResponseError::ListImport(issues) = err else { panic!("{err}") };
    let found: Vec<(usize, &str)> = issues.iter().map(|i| (i.row, i.column.as_str())).collect();
    assert!(found.contains(&(9, "measure_yellow")), "{issues:#?}");
    assert!(found.contains(&(10, "grade")) && found.contains(&(10, "measure_yellow")), "{issues:#?}");
    assert!(found.contains(&(11, "credit_code")) && found.contains(&(11, "so2_kg_d")), "{issues:#?}");
    assert_eq!(issues.len(), 5, "{issues:#?}");
}

#[test]
fn an_xlsx_list_imports_like_csv_and_errors_name_the_sheet() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("清单").unwrap();
    for (r, line) in sample_list().lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            match cell.parse::<f64>() {
                Ok(v) if r > 0 && (10..=17).contains(&c) => ws.write_number(r as u32, c as u16, v).unwrap(),
                _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
            };
        }
    }
    ws.write_string(3, 4, "Z").unwrap(); // spreadsheet row 4: a bad grade
    let bytes = wb.save_to_buffer().unwrap();
    let err = ReductionList::from_xlsx(&bytes, &GradeRuleTable::builtin()).unwrap_err();
    let ResponseError::ListImport(issues) = err else { panic!() };
    assert_eq!((issues[0].sheet.as_deref(), issues[0].row, issues[0].column.as_str()), (Some("清单"), 4, "grade"));
    ws_fix_and_import(&bytes);
}

fn ws_fix_and_import(_bad: &[u8]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, line) in sample_list().lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            ws.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    let list = ReductionList::from_xlsx(&wb.save_to_buffer().unwrap(), &GradeRuleTable::builtin()).unwrap();
    let csv = ReductionList::from_csv(sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    assert_eq!(list, csv);
}

fn inventory() -> Inventory {
    Inventory::from_csv(b"pollutant,total_kg_d\nSO2,1000\nNOx,10000\nPM,2000\nVOCs,5000\n").unwrap()
}

#[test]
fn an_orange_plan_sums_hand_worked_reductions() {
    let list = ReductionList::from_csv(sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    let targets = GradingProfile::national_2024().targets;
    let p =
        plan(&list, &GradeRuleTable::builtin(), WarningLevel::Orange, &inventory(), &targets, GuaranteePolicy::Exempt)
            .unwrap();
    // Orange: cement B cut 20 % (20, 200, 40, 0); cement D stop (50, 500, 100, 0);
    // foundry C cut 50 % on both lines (5, 50, 25, 10) + (0, 0, 5, 100); A, 白名单, 保障类: 0.
    let so2 = &p.totals[0];
    assert_eq!((so2.reduction_kg_d, so2.total_kg_d), (75.0, 1000.0));
    assert_eq!(p.totals[1].reduction_kg_d, 750.0);
    assert_eq!(p.totals[2].reduction_kg_d, 170.0);
    assert_eq!(p.totals[3].reduction_kg_d, 110.0);
    // 7.5 % SO2, 7.5 % NOx, 8.5 % PM, 2.2 % VOCs: none reaches 20 %.
    assert!(p.totals.iter().all(|t| !t.met && t.target == 0.20));
    let cement_b = &p.enterprises[0].lines[0];
    assert_eq!((cement_b.measure.as_str(), cement_b.verified), ("cut:20;trucks:guo5", true));
    assert!(cement_b.source.contains("340号"));
    assert_eq!(p.enterprises[3].treatment, Treatment::SelfDirected);
    assert_eq!(p.enterprises[4].treatment, Treatment::SelfDirected, "白名单");
    assert_eq!(p.enterprises[5].treatment, Treatment::Exempt);
    assert_eq!(p.by_industry["水泥熟料"].nox, 700.0);
    assert_eq!(p.by_county["源汇区"].pm, 170.0);
    // Suggestions: the C foundry's lines first (stop), then the B cement deeper; D is already stopped.
    assert_eq!(p.suggestions[0].grade, Grade::C);
    assert!(p.suggestions.iter().all(|s| s.proposed.contains("stop") || s.proposed.contains("cut:40")));
    // Even all of that cannot reach 20 % of this inventory: the plan says so.
    assert!(!p.unresolved.is_empty());
    let heat =
        plan(&list, &GradeRuleTable::builtin(), WarningLevel::Orange, &inventory(), &targets, GuaranteePolicy::HeatLed)
            .unwrap();
    assert_eq!(heat.enterprises[5].treatment, Treatment::HeatLed);
}

#[test]
fn a_plan_that_reaches_its_target_suggests_nothing() {
    let list = ReductionList::from_csv(sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    let inv = Inventory::from_csv(b"pollutant,total_kg_d\nSO2,300\nNOx,3000\nPM,600\nVOCs,500\n").unwrap();
    let targets = GradingProfile::national_2024().targets;
    let p =
        plan(&list, &GradeRuleTable::builtin(), WarningLevel::Red, &inv, &targets, GuaranteePolicy::Exempt).unwrap();
    // Red: cement B stop (100,1000,200,0), D stop (50,500,100,0), foundry stop (10,100,60,220).
    assert_eq!(p.totals[0].reduction_kg_d, 160.0);
    assert!(p.totals.iter().all(|t| t.met), "{:#?}", p.totals);
    assert!(p.suggestions.is_empty() && p.unresolved.is_empty());
}

fn ctx(kind: TransitionKind, step: u32, level: WarningLevel) -> NoticeContext {
    let t = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap();
    NoticeContext {
        warning_id: "LH-2026-001".into(),
        step,
        kind,
        level,
        issued_at: t + Duration::hours(i64::from(step)),
        effective_from: t + Duration::hours(7),
        effective_until: t + Duration::hours(79),
        ack_hours: 2,
        issuer: "漯河市重污染天气应急指挥部办公室".into(),
        basis: GradingProfile::national_2024().basis,
        office_contact: "0395-0000000".into(),
    }
}

#[test]
fn notices_go_to_affected_enterprises_and_supersede_earlier_ones() {
    let list = ReductionList::from_csv(sample_list().as_bytes(), &GradeRuleTable::builtin()).unwrap();
    let targets = GradingProfile::national_2024().targets;
    let inv = inventory();
    let rules = GradeRuleTable::builtin();
    let orange = plan(&list, &rules, WarningLevel::Orange, &inv, &targets, GuaranteePolicy::Exempt).unwrap();
    let first = notices(&orange, &ctx(TransitionKind::Issue, 1, WarningLevel::Orange), &[]);
    assert_eq!(first.len(), 5, "the exempt 保障类 enterprise gets none");
    let n = &first[0];
    assert!(n.verify());
    assert_eq!(n.id, format!("LH-2026-001-1-{}", code(1)));
    assert_eq!(n.ack_deadline.to_rfc3339(), "2026-12-01T20:00:00+08:00");
    assert!(n.lines[0].zh.contains("限产20%") && n.transport_zh.contains("国五"));
    assert!(n.to_text().contains("橙色预警（Ⅱ级应急响应）") && n.to_html().contains("<table"));
    let mut tampered = n.clone();
    tampered.lines[0].measure = "none".into();
    assert!(!tampered.verify());

    let red = plan(&list, &rules, WarningLevel::Red, &inv, &targets, GuaranteePolicy::Exempt).unwrap();
    let upgrade = notices(&red, &ctx(TransitionKind::Upgrade, 2, WarningLevel::Red), &first);
    assert!(upgrade.iter().all(|u| u.supersedes.as_deref() == Some(&format!("LH-2026-001-1-{}", u.credit_code)[..])));
    let mut all = first.clone();
    all.extend(upgrade);
    let lift = notices(&red, &ctx(TransitionKind::Lift, 3, WarningLevel::Red), &all);
    assert_eq!(lift.len(), 5);
    assert!(lift.iter().all(|l| l.lines.is_empty() && l.supersedes.as_ref().unwrap().contains("-2-")));
    // Ids are stable: the same step rendered again gives the same ids and hashes.
    let again = notices(&orange, &ctx(TransitionKind::Issue, 1, WarningLevel::Orange), &[]);
    assert_eq!(again, first);
}

fn warning_with_steps() -> Warning {
    let t = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap();
    let who = |h: i64| Actor {
        by: "office",
        at: t + Duration::hours(h),
        reason: "预测日AQI>200持续48小时",
        forecast_id: "F1",
    };
    let mut w =
        Warning::draft("LH-2026-001", WarningLevel::Orange, t + Duration::hours(31), t + Duration::hours(79), &who(0))
            .unwrap();
    w.issue(&who(1)).unwrap();
    w.upgrade(WarningLevel::Red, t + Duration::hours(103), &who(20)).unwrap();
    w.lift(&who(60)).unwrap();
    w
}

#[test]
fn cap_alerts_chain_alert_update_cancel() {
    let w = warning_with_steps();
    let cfg = CapConfig::luohe();
    let mut sent: Vec<CapAlert> = Vec::new();
    for (k, step) in w.transitions.iter().skip(1).enumerate() {
        let a = warning_alert(&w, step, &cfg, &sent, k as u8).unwrap();
        sent.push(a);
    }
    let types: Vec<MsgType> = sent.iter().map(CapAlert::msg_type).collect();
    assert_eq!(types, vec![MsgType::Alert, MsgType::Update, MsgType::Cancel]);
    let id = sent[0].identifier();
    assert_eq!(id.len(), 31);
    assert!(id.starts_with("41110000000000_20261201180000_0"), "{id}");

    for (k, a) in sent.iter().enumerate() {
        let xml = a.to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(
            (root.tag_name().name(), root.tag_name().namespace()),
            ("alert", Some("urn:oasis:names:tc:emergency:cap:1.2"))
        );
        let child = |n: roxmltree::Node, name: &str| {
            n.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text().map(str::to_owned))
        };
        let order: Vec<&str> = root.children().filter(|c| c.is_element()).map(|c| c.tag_name().name()).collect();
        let required = ["identifier", "sender", "sent", "status", "msgType", "scope"];
        assert_eq!(&order[..6], &required, "CAP element order");
        assert!(child(root, "sent").unwrap().ends_with("+08:00"));
        let info = root.children().find(|c| c.has_tag_name("info")).unwrap();
        let enums: [(&str, &[&str]); 4] = [
            (
                "category",
                &[
                    "Geo",
                    "Met",
                    "Safety",
                    "Security",
                    "Rescue",
                    "Fire",
                    "Health",
                    "Env",
                    "Transport",
                    "Infra",
                    "CBRNE",
                    "Other",
                ],
            ),
            ("urgency", &["Immediate", "Expected", "Future", "Past", "Unknown"]),
            ("severity", &["Extreme", "Severe", "Moderate", "Minor", "Unknown"]),
            ("certainty", &["Observed", "Likely", "Possible", "Unlikely", "Unknown"]),
        ];
        for (name, allowed) in enums {
            let v = child(info, name).unwrap();
            assert!(allowed.contains(&v.as_str()), "{name} = {v}");
        }
        if k > 0 {
            let refs = child(root, "references").unwrap();
            assert_eq!(refs.split(' ').count(), k, "each message references all earlier ones");
            assert!(refs.contains(sent[0].identifier()));
        }
    }
    let xml = sent[1].to_xml();
    assert!(xml.contains("<severity>Extreme</severity>") && xml.contains("<event>重污染天气红色预警</event>"));
    assert!(sent[2].to_xml().contains("<responseType>AllClear</responseType>"));
}

#[test]
fn invalid_cap_cannot_be_built() {
    let t = FixedOffset::east_opt(8 * 3600).unwrap().with_ymd_and_hms(2026, 12, 1, 17, 0, 0).unwrap();
    let info = |effective| CapInfo {
        language: "zh-CN".into(),
        categories: vec![Category::Env],
        event: "e".into(),
        response_types: vec![],
        urgency: Urgency::Future,
        severity: Severity::Severe,
        certainty: Certainty::Likely,
        effective: Some(effective),
        onset: None,
        expires: None,
        sender_name: String::new(),
        headline: String::new(),
        description: String::new(),
        instruction: String::new(),
        parameters: vec![],
        areas: vec![],
    };
    let mk = |msg, scope, restriction: Option<&str>, refs: Vec<CapReference>, infos: Vec<CapInfo>| {
        CapAlert::new(
            "id1".into(),
            "s@x".into(),
            t,
            Status::Actual,
            msg,
            scope,
            restriction.map(Into::into),
            refs,
            infos,
        )
    };
    assert!(mk(MsgType::Alert, Scope::Public, None, vec![], vec![info(t)]).is_ok());
    assert!(
        mk(MsgType::Alert, Scope::Public, None, vec![], vec![info(t - Duration::hours(1))]).is_err(),
        "effective before sent"
    );
    assert!(mk(MsgType::Update, Scope::Public, None, vec![], vec![info(t)]).is_err(), "Update without references");
    assert!(
        mk(MsgType::Alert, Scope::Restricted, None, vec![], vec![info(t)]).is_err(),
        "Restricted without restriction"
    );
    assert!(mk(MsgType::Alert, Scope::Public, None, vec![], vec![]).is_err(), "no info");
}

#[test]
fn the_alerts_instruction_is_what_the_profile_asks_of_the_public_at_its_level() {
    let w = warning_with_steps();
    let mut cfg = CapConfig::luohe();
    let profile = crate::GradingProfile::national_2024();
    cfg.public_measures = profile.public_measures.clone();
    let mut sent: Vec<CapAlert> = Vec::new();
    for (k, step) in w.transitions.iter().skip(1).enumerate() {
        sent.push(warning_alert(&w, step, &cfg, &sent, k as u8).unwrap());
    }
    let instruction = |a: &CapAlert| {
        let xml = a.to_xml();
        let at = xml.find("<instruction>").unwrap() + "<instruction>".len();
        xml[at..at + xml[at..].find("</instruction>").unwrap()].to_owned()
    };
    // Orange, then red: each alert asks what its own level asks; the lift ends the measures.
    assert!(
        instruction(&sent[0]).starts_with("儿童、老年人和呼吸道、心脑血管疾病及其他慢性病患者留在室内，避免体力消耗。")
    );
    assert!(instruction(&sent[0]).contains("列入应急减排清单的企业按橙色预警要求落实减排措施。"));
    assert!(instruction(&sent[1]).contains("列入应急减排清单的企业按红色预警要求落实减排措施。"));
    assert!(!instruction(&sent[1]).contains("橙色"));
    assert_eq!(instruction(&sent[2]), "各项应急减排措施终止。");
}

#[test]
fn public_measures_name_each_level_once_in_both_languages() {
    let text = include_str!("../profiles/national-2024.toml");
    let p = crate::GradingProfile::from_toml("national-2024", text).unwrap();
    let levels: Vec<WarningLevel> = p.public_measures.iter().map(|m| m.level).collect();
    assert_eq!(levels, WarningLevel::COLOURED);
    let twice = text.replace("level = \"orange\"\nhealth", "level = \"yellow\"\nhealth");
    let e = crate::GradingProfile::from_toml("p.toml", &twice).unwrap_err().to_string();
    assert!(e.contains("public_measures[1]: level yellow is given twice"), "{e}");
    let half =
        text.replacen("en = \"Everyone else should spend less time exercising or working outdoors.\"", "en = \"\"", 1);
    let e = crate::GradingProfile::from_toml("p.toml", &half).unwrap_err().to_string();
    assert!(e.contains("public_measures[0] (yellow): a measure needs both zh and en"), "{e}");
}
