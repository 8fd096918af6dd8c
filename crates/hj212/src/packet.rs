//! One packet: the header fields and the command parameters, read from a frame and written back.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use serde::Serialize;

use crate::{Hj212Error, crc16, field_error};

/// The fields of a pollutant whose values are numbers; every other one (`Flag`, `SampleTime`,
/// `EFlag`, …) is text.
const NUMERIC: [&str; 10] = ["Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax", "Data"];

/// A value in `CP`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

/// A decoded packet. `values` maps each pollutant or parameter code (`a34013`) to its fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Packet {
    pub qn: Option<String>,
    pub st: Option<String>,
    pub cn: Option<String>,
    pub pw: Option<String>,
    pub mn: Option<String>,
    pub flag: Option<String>,
    pub pnum: Option<String>,
    pub pno: Option<String>,
    /// `DataTime` in CP, Beijing time.
    pub data_time: Option<DateTime<FixedOffset>>,
    pub values: BTreeMap<String, BTreeMap<String, Value>>,
    /// CP items that are neither `DataTime` nor `<code>-<field>` (`RtdInterval=30`, `QnRtn=1`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    pub crc: String,
}

fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

/// `YYYYMMDDhhmmss` (or with `zzz` milliseconds, as in `QN`) as Beijing time.
fn data_time(s: &str) -> Result<DateTime<FixedOffset>, Hj212Error> {
    let bad = || field_error("CP DataTime", format!("`{s}` is not YYYYMMDDhhmmss"));
    if !(s.len() == 14 || s.len() == 17) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let t = NaiveDateTime::parse_from_str(&s[..14], "%Y%m%d%H%M%S").map_err(|_| bad())?;
    beijing().from_local_datetime(&t).single().ok_or_else(bad)
}

impl Packet {
    /// Checks a frame (`##…\r\n`, or without the `\r\n` as a line of a file) and reads it.
    pub fn decode(frame: &[u8]) -> Result<Packet, Hj212Error> {
        let frame = frame.strip_suffix(b"\r\n").or_else(|| frame.strip_suffix(b"\n")).unwrap_or(frame);
        let rest = frame.strip_prefix(b"##").ok_or(Hj212Error::Header)?;
        if rest.len() < 4 {
            return Err(Hj212Error::Length(String::from_utf8_lossy(rest).into_owned()));
        }
        let (digits, rest) = rest.split_at(4);
        let declared = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or_else(|| Hj212Error::Length(String::from_utf8_lossy(digits).into_owned()))?;
        let actual = rest.len().saturating_sub(4);
        if rest.len() < 4 || actual != declared {
            return Err(Hj212Error::LengthMismatch { declared, actual });
        }
        let (data, crc) = rest.split_at(declared);
        let given = std::str::from_utf8(crc)
            .ok()
            .filter(|c| c.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| Hj212Error::CrcFormat(String::from_utf8_lossy(crc).into_owned()))?;
        let computed = format!("{:04X}", crc16(data));
        if !given.eq_ignore_ascii_case(&computed) {
            return Err(Hj212Error::CrcMismatch { given: given.to_owned(), computed });
        }
        let text = std::str::from_utf8(data).map_err(|e| field_error("data", format!("not UTF-8 text: {e}")))?;
        Packet::read_segment(text, given.to_ascii_uppercase())
    }

    /// The data segment's fields.
    fn read_segment(text: &str, crc: String) -> Result<Packet, Hj212Error> {
        let at = text.find("CP=&&").ok_or_else(|| field_error("CP", "missing (a data segment ends with CP=&&…&&)"))?;
        let (head, cp) = text.split_at(at);
        let cp = cp["CP=&&".len()..].strip_suffix("&&").ok_or_else(|| field_error("CP", "does not end with &&"))?;
        let mut p = Packet {
            qn: None,
            st: None,
            cn: None,
            pw: None,
            mn: None,
            flag: None,
            pnum: None,
            pno: None,
            data_time: None,
            values: BTreeMap::new(),
            parameters: BTreeMap::new(),
            crc,
        };
        for item in head.split(';').filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').ok_or_else(|| field_error(item, "a header field is KEY=value"))?;
            let slot = match key {
                "QN" => &mut p.qn,
                "ST" => &mut p.st,
                "CN" => &mut p.cn,
                "PW" => &mut p.pw,
                "MN" => &mut p.mn,
                "Flag" => &mut p.flag,
                "PNUM" => &mut p.pnum,
                "PNO" => &mut p.pno,
                other => return Err(field_error(other, "is not a field of the data segment")),
            };
            if slot.replace(value.to_owned()).is_some() {
                return Err(field_error(key, "is given twice"));
            }
        }
        for (key, required) in [("ST", &p.st), ("CN", &p.cn), ("MN", &p.mn)] {
            if required.as_deref().is_none_or(str::is_empty) {
                return Err(field_error(key, "missing"));
            }
        }
        if let Some(f) = &p.flag
            && f.parse::<u8>().is_err()
        {
            return Err(field_error("Flag", format!("`{f}` is not a number")));
        }
        p.read_cp(cp)?;
        Ok(p)
    }

    fn read_cp(&mut self, cp: &str) -> Result<(), Hj212Error> {
        for item in cp.split([';', ',']).filter(|s| !s.is_empty()) {
            let (key, value) =
                item.split_once('=').ok_or_else(|| field_error("CP", format!("`{item}` is not KEY=value")))?;
            if key == "DataTime" {
                self.data_time = Some(data_time(value)?);
                continue;
            }
            let Some((code, field)) = key.split_once('-') else {
                self.parameters.insert(key.to_owned(), value.to_owned());
                continue;
            };
            let parsed = if NUMERIC.contains(&field) {
                let v = value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| field_error(&format!("CP {key}"), format!("`{value}` is not a number")))?;
                Value::Number(v)
            } else {
                Value::Text(value.to_owned())
            };
            if self.values.entry(code.to_owned()).or_default().insert(field.to_owned(), parsed).is_some() {
                return Err(field_error(&format!("CP {key}"), "is given twice"));
            }
        }
        Ok(())
    }

    /// Whether the sender asks for an answer (`Flag` bit 0, 应答标志).
    pub fn wants_answer(&self) -> bool {
        self.flag.as_deref().and_then(|f| f.parse::<u8>().ok()).is_some_and(|f| f & 1 == 1)
    }

    /// The data segment this packet is written as (fields in the standard's order); refused when
    /// a value holds a separator (`;`, `,`, `=`, `&`) that would change what it says, when a
    /// field holds the other kind of value than the standard's, or when it is longer than four
    /// digits can declare.
    pub fn segment(&self) -> Result<String, Hj212Error> {
        let plain = |field: &str, v: &str| {
            if v.contains([';', ',', '=', '&']) {
                Err(field_error(field, format!("`{v}` holds a separator (; , = &)")))
            } else {
                Ok(())
            }
        };
        let mut s = String::new();
        let head = [
            ("QN", &self.qn),
            ("ST", &self.st),
            ("CN", &self.cn),
            ("PW", &self.pw),
            ("MN", &self.mn),
            ("Flag", &self.flag),
            ("PNUM", &self.pnum),
            ("PNO", &self.pno),
        ];
        for (k, v) in head {
            if let Some(v) = v {
                plain(k, v)?;
                s += &format!("{k}={v};");
            }
        }
        let mut items = Vec::new();
        if let Some(t) = self.data_time {
            items.push(format!("DataTime={}", t.format("%Y%m%d%H%M%S")));
        }
        for (k, v) in &self.parameters {
            plain(&format!("CP {k}"), k)?;
            plain(&format!("CP {k}"), v)?;
            items.push(format!("{k}={v}"));
        }
        for (code, fields) in &self.values {
            let mut group = Vec::new();
            for (f, v) in fields {
                let key = format!("CP {code}-{f}");
                plain(&key, code)?;
                plain(&key, f)?;
                group.push(match v {
                    Value::Number(n) if NUMERIC.contains(&f.as_str()) && n.is_finite() => format!("{code}-{f}={n}"),
                    Value::Text(t) if !NUMERIC.contains(&f.as_str()) => {
                        plain(&key, t)?;
                        format!("{code}-{f}={t}")
                    }
                    _ => return Err(field_error(&key, "holds the other kind of value than the standard's")),
                });
            }
            items.push(group.join(","));
        }
        let segment = s + &format!("CP=&&{}&&", items.join(";"));
        if segment.len() > 9999 {
            return Err(Hj212Error::LengthMismatch { declared: 9999, actual: segment.len() });
        }
        Ok(segment)
    }

    /// The frame: `##`, length, data segment, CRC16, `\r\n`.
    pub fn encode(&self) -> Result<String, Hj212Error> {
        Ok(frame(&self.segment()?))
    }
}

/// A data segment framed.
fn frame(segment: &str) -> String {
    format!("##{:04}{segment}{:04X}\r\n", segment.len(), crc16(segment.as_bytes()))
}

/// The answers a receiver sends (ST=91, 系统交互).
pub mod answer {
    use super::{Packet, frame};

    fn head(p: &Packet, cn: &str) -> String {
        format!(
            "QN={};ST=91;CN={cn};PW={};MN={};Flag=4;",
            p.qn.as_deref().unwrap_or(""),
            p.pw.as_deref().unwrap_or(""),
            p.mn.as_deref().unwrap_or("")
        )
    }

    /// 9014, 数据应答: the upload was received.
    pub fn data(p: &Packet) -> String {
        frame(&format!("{}CP=&&&&", head(p, "9014")))
    }

    /// 9011, 请求应答, with `QnRtn` (1 ready to run, 2 refused, 3 wrong password, 4 unknown MN).
    pub fn request(p: &Packet, qn_rtn: u8) -> String {
        frame(&format!("{}CP=&&QnRtn={qn_rtn}&&", head(p, "9011")))
    }
}
