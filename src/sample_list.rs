//! The illustrative reduction list of a Luohe-like city: made up by hazewarn, not a real list.
//! Industries are those the issue names; grades are mixed; some entries are 保障类 or 白名单.
//! Cement lines leave their measures blank so the grade-rule table (the 2020 guide) fills them;
//! the other industries carry their own (一厂一策) measures, which are illustrative.

use hazewarn_response::{COLUMNS, CreditCode};

use crate::sample::Rng;

pub const LIST_FILE: &str = "luohe-illustrative.csv";
pub const INVENTORY_FILE: &str = "inventory-illustrative.csv";

const COUNTIES: [&str; 6] = ["源汇区", "郾城区", "召陵区", "舞阳县", "临颍县", "经济技术开发区"];

/// (industry, short name, grades in order, lines per enterprise, emission ranges SO2/NOx/PM/VOCs kg/d)
type Industry = (&'static str, &'static str, &'static [&'static str], usize, [(f64, f64); 4]);

const INDUSTRIES: [Industry; 8] = [
    (
        "水泥熟料",
        "水泥",
        &["A", "B", "B", "C", "C", "D"],
        2,
        [(50.0, 150.0), (500.0, 1500.0), (100.0, 300.0), (0.0, 0.0)],
    ),
    (
        "砖瓦窑",
        "砖瓦",
        &["B", "B", "C", "C", "C", "C", "C", "D", "D", "D"],
        1,
        [(30.0, 120.0), (40.0, 150.0), (30.0, 100.0), (0.0, 5.0)],
    ),
    (
        "铸造",
        "铸造",
        &["A", "B", "B", "B", "C", "C", "C", "C", "D", "D"],
        2,
        [(5.0, 30.0), (10.0, 50.0), (20.0, 80.0), (10.0, 60.0)],
    ),
    (
        "工业涂装",
        "涂装",
        &["引领性", "B", "B", "B", "C", "C", "C", "D"],
        1,
        [(0.0, 2.0), (2.0, 10.0), (5.0, 20.0), (50.0, 300.0)],
    ),
    (
        "包装印刷",
        "印刷",
        &["A", "A", "B", "B", "B", "C", "C", "C"],
        1,
        [(0.0, 1.0), (1.0, 5.0), (1.0, 5.0), (30.0, 200.0)],
    ),
    ("食品加工", "食品", &["非重点"; 10], 2, [(2.0, 10.0), (10.0, 40.0), (5.0, 20.0), (5.0, 30.0)]),
    ("生物质锅炉", "热力", &["非重点"; 6], 1, [(10.0, 40.0), (50.0, 150.0), (20.0, 60.0), (1.0, 5.0)]),
    (
        "化工",
        "化工",
        &["引领性", "非引领性", "非引领性", "非引领性", "非引领性", "非引领性"],
        2,
        [(20.0, 80.0), (30.0, 100.0), (10.0, 40.0), (100.0, 400.0)],
    ),
];

/// Illustrative per-grade measures (yellow, orange, red) for the industries whose official
/// tables were not retrieved. Labelled illustrative in the data README; not from the guide.
fn own_measures(industry: &str, grade: &str, k: usize) -> [&'static str; 3] {
    match (industry, grade) {
        ("水泥熟料", _) => ["", "", ""],
        (_, "D") => ["stop", "stop", "stop"],
        (_, "C") => ["cut:30;trucks:guo5", "cut:50;trucks:guo5", "stop;trucks:guo5"],
        (_, "B" | "B-") => ["trucks:guo5", "cut:20;trucks:guo5", "cut:50;trucks:guo5"],
        (_, "非引领性") => ["cut:20", "cut:30", "cut:50"],
        ("食品加工", _) if k.is_multiple_of(2) => ["none", "cut:20", "cut:30"],
        ("生物质锅炉", _) => ["cut:20", "cut:30", "stop"],
        _ => ["cut:10", "cut:20", "cut:30"],
    }
}

pub fn list_and_inventory_csv(seed: u64) -> (String, String) {
    let mut rng = Rng::new(seed ^ 0x5EED_115E);
    let header: Vec<&str> = COLUMNS.iter().map(|(en, _, _)| *en).collect();
    let mut out = format!("{}\n", header.join(","));
    let mut totals = [0.0f64; 4];
    let mut n = 0;
    for (industry, short, grades, lines, ranges) in INDUSTRIES {
        for (k, grade) in grades.iter().enumerate() {
            n += 1;
            let body = format!("91411100MA{:07}", 4_000_000 + n * 7919 % 1_000_000);
            let code = CreditCode::with_check(&body).expect("generated bodies use the code alphabet");
            let county = COUNTIES[(n * 5 + k) % COUNTIES.len()];
            let name = format!("示例{short}企业{:02}有限公司", k + 1);
            // Food processing and heating carry the livelihood flags.
            let guarantee = if industry == "生物质锅炉" && k < 2 { "居民供暖（以热定产）" } else { "" };
            let whitelist = if industry == "食品加工" && k < 3 { "民生保障重点企业" } else { "" };
            let contact = format!("联系人{n:02} 0395-55{n:05}");
            let endpoint = format!("file:notices/inbox/{code}");
            // Synthetic reachable contacts: 0395 is Luohe's area code, example.com is reserved.
            let (mobile, email) = (format!("1990395{n:04}"), format!("duty{n:02}@qiye{n:02}.example.com"));
            let measures = own_measures(industry, grade, k);
            for line in 1..=lines {
                let cap = (500.0 + 4500.0 * rng.uniform()).round();
                let (eia, permit, last) =
                    (cap, (cap * (0.9 + 0.1 * rng.uniform())).round(), (cap * (0.7 + 0.3 * rng.uniform())).round());
                let e: Vec<f64> = ranges.iter().map(|(lo, hi)| (lo + (hi - lo) * rng.uniform()).round()).collect();
                for (t, v) in totals.iter_mut().zip(&e) {
                    *t += v;
                }
                let trucks = (5.0 + 60.0 * rng.uniform()).round();
                out += &format!(
                    "{code},{name},{county},{industry},{grade},{guarantee},{whitelist},{contact},{endpoint},{line}#生产线,{eia},{permit},{last},{},{},{},{},{trucks},{},{},{},{mobile},{email},\n",
                    e[0], e[1], e[2], e[3], measures[0], measures[1], measures[2]
                );
            }
        }
    }
    // The listed industry is taken to be half of the city's emissions (the rest: traffic,
    // dust, households), so the targets are demanding but reachable at yellow.
    let mut inventory = String::from("pollutant,total_kg_d\n");
    for (name, t) in ["SO2", "NOx", "PM", "VOCs"].iter().zip(totals) {
        inventory += &format!("{name},{:.0}\n", t / 0.50);
    }
    (out, inventory)
}
