//! Golden packets built by hand from the standard's text, CRCs computed here by a second,
//! table-driven implementation of the appendix's algorithm, properties (no input panics, a
//! packet survives encode → decode, framing loses no byte).

use proptest::prelude::*;

use crate::{Framed, Frames, Hj212Error, Packet, Value, answer, crc16};

/// The appendix's CRC again, written differently: a 256-entry table of the reflected 0xA001
/// polynomial, applied to the register after its high byte is shifted down and the byte XORed in.
fn crc_by_table(data: &[u8]) -> u16 {
    let table: Vec<u16> =
        (0..256u16).map(|n| (0..8).fold(n, |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })).collect();
    data.iter().fold(0xFFFF, |reg: u16, &b| {
        let x = (reg >> 8) ^ u16::from(b);
        table[usize::from(x & 0xFF)] ^ (x >> 8)
    })
}

/// Frames a data segment with the test's own CRC.
fn framed(segment: &str) -> String {
    format!("##{:04}{segment}{:04X}\r\n", segment.len(), crc_by_table(segment.as_bytes()))
}

/// The standard's own example of a frame (its section on the communication packet): a
/// 101-byte data segment whose CRC is 1C80.
const STANDARD_EXAMPLE: &str = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;\
MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

#[test]
fn the_standards_example_frame_decodes_with_its_crc() {
    let p = Packet::decode(STANDARD_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(p.qn.as_deref(), Some("20160801085857223"));
    assert_eq!((p.st.as_deref(), p.cn.as_deref(), p.pw.as_deref()), (Some("32"), Some("1062"), Some("100000")));
    assert_eq!(p.mn.as_deref(), Some("010000A8900016F000169DC0"));
    assert_eq!((p.flag.as_deref(), p.wants_answer()), (Some("5"), true));
    assert_eq!(p.parameters.get("RtdInterval").map(String::as_str), Some("30"));
    assert!(p.values.is_empty() && p.data_time.is_none());
    assert_eq!(p.crc, "1C80");
}

#[test]
fn the_crc_is_the_appendix_algorithm_not_modbus() {
    let segment = &STANDARD_EXAMPLE[6..107];
    assert_eq!(crc16(segment.as_bytes()), 0x1C80);
    for s in ["", "a", "QN=1;ST=22;CN=2011;PW=123456;MN=X;Flag=4;CP=&&&&", "漯河市"] {
        assert_eq!(crc16(s.as_bytes()), crc_by_table(s.as_bytes()), "{s:?}");
    }
    // CRC-16/MODBUS of the same segment differs: the appendix shifts before XORing each byte.
    let modbus = segment.bytes().fold(0xFFFFu16, |r, b| {
        (0..8).fold(r ^ u16::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xA001 } else { c >> 1 })
    });
    assert_ne!(modbus, 0x1C80);
}

/// A real-time upload (CN=2011) as a flue-gas monitor sends it: particulates, SO2 with its
/// converted value, the flow, each with its data flag.
const REALTIME: &str = "QN=20240122081600123;ST=31;CN=2011;PW=123456;MN=LHTEST0000000001;Flag=5;\
CP=&&DataTime=20240122081600;a34013-Rtd=6.48,a34013-ZsRtd=7.10,a34013-Flag=N;\
a21026-Rtd=35.2,a21026-ZsRtd=38.6,a21026-Flag=N;a00000-Rtd=1.25e5,a00000-Flag=N&&";

#[test]
fn a_realtime_upload_reads_every_pollutant_and_field() {
    let p = Packet::decode(framed(REALTIME).as_bytes()).unwrap();
    assert_eq!(p.cn.as_deref(), Some("2011"));
    assert_eq!(p.data_time.unwrap().to_rfc3339(), "2024-01-22T08:16:00+08:00");
    let dust = &p.values["a34013"];
    assert_eq!((&dust["Rtd"], &dust["ZsRtd"]), (&Value::Number(6.48), &Value::Number(7.10)));
    assert_eq!(dust["Flag"], Value::Text("N".into()));
    assert_eq!(p.values["a00000"]["Rtd"], Value::Number(125_000.0));
    assert_eq!(p.values.len(), 3);
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["values"]["a21026"]["ZsRtd"], 38.6);
    assert_eq!(json["pnum"], serde_json::Value::Null);
    assert_eq!(json["crc"].as_str().unwrap(), format!("{:04X}", crc_by_table(REALTIME.as_bytes())));
}

#[test]
fn refusals_name_the_field() {
    let good = framed(REALTIME);
    let bad_crc = format!("{}0000\r\n", &good[..good.len() - 6]);
    match Packet::decode(bad_crc.as_bytes()) {
        Err(Hj212Error::CrcMismatch { given, computed }) => {
            assert_eq!((given.as_str(), computed), ("0000", format!("{:04X}", crc_by_table(REALTIME.as_bytes()))));
        }
        other => panic!("{other:?}"),
    }
    let short = good.replacen(&format!("##{:04}", REALTIME.len()), &format!("##{:04}", REALTIME.len() + 1), 1);
    assert!(matches!(Packet::decode(short.as_bytes()), Err(Hj212Error::LengthMismatch { .. })));
    let cases = [
        (REALTIME.replace("a34013-Rtd=6.48", "a34013-Rtd=six"), "CP a34013-Rtd: `six` is not a number"),
        (REALTIME.replace("MN=LHTEST0000000001;", ""), "MN: missing"),
        (REALTIME.replace("DataTime=20240122081600", "DataTime=2024-01-22"), "CP DataTime: `2024-01-22`"),
        (REALTIME.replace("CP=&&", "CP=&"), "CP: missing"),
        (REALTIME.replace("ST=31;", "ST=31;ST=32;"), "ST: is given twice"),
        (REALTIME.replace("Flag=5;", "Flag=x;"), "Flag: `x` is not a number"),
    ];
    for (segment, want) in cases {
        let e = Packet::decode(framed(&segment).as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}\nwanted: {want}");
    }
    assert_eq!(Packet::decode(b"#0101").unwrap_err(), Hj212Error::Header);
}

#[test]
fn answers_are_framed_with_the_request_qn() {
    let p = Packet::decode(framed(REALTIME).as_bytes()).unwrap();
    let a = answer::data(&p);
    let back = Packet::decode(a.as_bytes()).unwrap();
    assert_eq!(
        (back.st.as_deref(), back.cn.as_deref(), back.qn.as_deref()),
        (Some("91"), Some("9014"), p.qn.as_deref())
    );
    let r = Packet::decode(answer::request(&p, 3).as_bytes()).unwrap();
    assert_eq!((r.cn.as_deref(), r.parameters.get("QnRtn").map(String::as_str)), (Some("9011"), Some("3")));
}

#[test]
fn frames_split_over_reads_and_merged_in_one_come_out_whole() {
    let a = framed(REALTIME);
    let b = STANDARD_EXAMPLE.to_owned();
    let stream = format!("noise{a}{b}");
    let mut f = Frames::new();
    let mut out = Vec::new();
    for chunk in stream.as_bytes().chunks(7) {
        f.push(chunk);
        while let Some(x) = f.next() {
            out.push(x);
        }
    }
    assert_eq!(out[0], Framed::Dropped { bytes: 5, error: Hj212Error::Header });
    assert_eq!(out[1..], [Framed::Frame(a.into_bytes()), Framed::Frame(b.into_bytes())]);
    assert_eq!(f.pending(), 0);
}

fn code() -> impl Strategy<Value = String> {
    "[a-w][0-9]{5}"
}

fn packet() -> impl Strategy<Value = Packet> {
    let fields = prop::collection::btree_map(
        prop::sample::select(vec!["Rtd", "Avg", "Min", "Max", "ZsRtd", "Flag", "SampleTime"]),
        (-1.0e6f64..1.0e6, "[A-Z]{1}"),
        1..4,
    );
    (
        "[0-9]{17}",
        prop::sample::select(vec!["21", "22", "31", "32", "39"]),
        prop::sample::select(vec!["2011", "2051", "2061", "2031"]),
        "[0-9]{6}",
        "[A-Z0-9]{14,24}",
        prop::collection::btree_map(code(), fields, 0..5),
        (0i64..2_000_000_000).prop_map(|s| chrono::DateTime::from_timestamp(s, 0).unwrap()),
    )
        .prop_map(|(qn, st, cn, pw, mn, values, t)| Packet {
            qn: Some(qn),
            st: Some(st.into()),
            cn: Some(cn.into()),
            pw: Some(pw),
            mn: Some(mn),
            flag: Some("5".into()),
            pnum: None,
            pno: None,
            data_time: Some(t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())),
            values: values
                .into_iter()
                .map(|(c, fs)| {
                    let fs = fs
                        .into_iter()
                        .map(|(f, (n, t))| {
                            let v = if ["Flag", "SampleTime"].contains(&f) { Value::Text(t) } else { Value::Number(n) };
                            (f.to_owned(), v)
                        })
                        .collect();
                    (c, fs)
                })
                .collect(),
            parameters: Default::default(),
            crc: String::new(),
        })
}

proptest! {
    #[test]
    fn no_byte_string_makes_decode_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Packet::decode(&bytes);
        let mut with_header = b"##".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = Packet::decode(&with_header);
    }

    #[test]
    fn a_packet_survives_encode_then_decode(p in packet()) {
        let text = p.encode().unwrap();
        let back = Packet::decode(text.as_bytes()).unwrap();
        prop_assert_eq!(&back.crc, &format!("{:04X}", crc_by_table(p.segment().unwrap().as_bytes())));
        prop_assert_eq!(Packet { crc: String::new(), ..back }, p);
    }

    #[test]
    fn text_that_would_change_the_packet_is_refused_and_any_other_round_trips(t in "[ -~]{0,12}") {
        let mut p = Packet::decode(STANDARD_EXAMPLE.as_bytes()).unwrap();
        let fields = [("Flag".to_owned(), Value::Text(t.clone()))].into_iter().collect();
        p.values.insert("a34013".into(), fields);
        match p.encode() {
            Err(e) => prop_assert!(t.contains([';', ',', '=', '&']), "{e}"),
            Ok(frame) => {
                let back = Packet::decode(frame.as_bytes()).unwrap();
                prop_assert_eq!(back.values, p.values);
            }
        }
    }

    #[test]
    fn framing_accounts_for_every_byte(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..20)) {
        let mut f = Frames::new();
        let (mut total, mut seen) = (0, 0);
        for c in &chunks {
            total += c.len();
            f.push(c);
            while let Some(x) = f.next() {
                seen += match x { Framed::Frame(b) => b.len(), Framed::Dropped { bytes, .. } => bytes };
            }
        }
        prop_assert_eq!(seen + f.pending(), total);
    }
}
