//! Tencent Cloud's SMS API (`SendSms` 2021-01-11) as its documentation describes it: the request
//! must carry a TC3-HMAC-SHA256 `Authorization` that this server recomputes from the headers and
//! body it received (written here from the "Signature v3" steps, not with the code under test),
//! a timestamp within five minutes, and the SendSms action and version. Each number is answered
//! with the code the test sets for it (default `Ok`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const SECRET_ID: &str = "AKIDtestkit0000000000000000000000000";
pub const SECRET_KEY: &str = "testkit-secret-key-0000000000000";

#[derive(Clone, Default)]
pub struct TencentSms {
    /// The accepted requests' bodies.
    pub accepted: Arc<Mutex<Vec<Value>>>,
    /// The code to answer for a number (`+86…`), e.g. `InvalidParameterValue.IncorrectPhoneNumber`.
    pub codes: Arc<Mutex<HashMap<String, String>>>,
    /// A request-level error to answer instead, e.g. `FailedOperation.InsufficientBalanceInSmsPackage`.
    pub error: Arc<Mutex<Option<String>>>,
    /// When the last request was accepted.
    pub last_accepted: Arc<Mutex<Option<std::time::Instant>>>,
}

/// A city config's `[[channels]]` entry of a `tencent-sms` channel named `name` that sends to
/// this peer at `endpoint` with its keys (notice template 2001).
pub fn channel(name: &str, endpoint: &str) -> String {
    format!(
        "[[channels]]\nkind = \"tencent-sms\"\nname = \"{name}\"\nendpoint = \"{endpoint}\"\nsecret_id = \"{SECRET_ID}\"\n\
         secret_key = \"{SECRET_KEY}\"\nsdk_app_id = \"1400006666\"\nsign_name = \"测试市应急办\"\nnotice_template = \"2001\"\n"
    )
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The signature the documentation's steps give for this request, or why it cannot be checked.
fn expected_authorization(h: &HeaderMap, body: &[u8]) -> Result<String, String> {
    let auth = header(h, "authorization");
    let signed = auth.split("SignedHeaders=").nth(1).and_then(|s| s.split(',').next()).ok_or("no SignedHeaders")?;
    let names: Vec<&str> = signed.split(';').collect();
    if !names.contains(&"content-type") || !names.contains(&"host") {
        return Err("content-type and host must be signed".into());
    }
    let canonical_headers: String =
        names.iter().map(|n| format!("{n}:{}\n", header(h, n).trim().to_ascii_lowercase())).collect();
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{}", hexs(&Sha256::digest(body)));
    let ts: i64 = header(h, "x-tc-timestamp").parse().map_err(|_| "X-TC-Timestamp is not a number")?;
    let date = chrono::DateTime::from_timestamp(ts, 0).ok_or("bad timestamp")?.format("%Y-%m-%d").to_string();
    let scope = format!("{date}/sms/tc3_request");
    let to_sign = format!("TC3-HMAC-SHA256\n{ts}\n{scope}\n{}", hexs(&Sha256::digest(canonical.as_bytes())));
    let k_date = hmac(format!("TC3{SECRET_KEY}").as_bytes(), date.as_bytes());
    let k_signing = hmac(&hmac(&k_date, b"sms"), b"tc3_request");
    let signature = hexs(&hmac(&k_signing, to_sign.as_bytes()));
    Ok(format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/{scope}, SignedHeaders={signed}, Signature={signature}"))
}

fn error(code: &str) -> Value {
    json!({"Response": {"Error": {"Code": code, "Message": "testkit"}, "RequestId": "testkit"}})
}

impl TencentSms {
    fn answer(&self, h: &HeaderMap, body: &[u8]) -> Value {
        let fresh =
            header(h, "x-tc-timestamp").parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
        if !fresh {
            return error("AuthFailure.SignatureExpire");
        }
        match expected_authorization(h, body) {
            Ok(want) if want == header(h, "authorization") => {}
            _ => return error("AuthFailure.SignatureFailure"),
        }
        if header(h, "x-tc-action") != "SendSms" || header(h, "x-tc-version") != "2021-01-11" {
            return error("InvalidAction");
        }
        if let Some(code) = self.error.lock().unwrap().clone() {
            return error(&code);
        }
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let phones: Vec<String> = v["PhoneNumberSet"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect();
        if phones.is_empty() {
            return error("MissingParameter.EmptyPhoneNumberSet");
        }
        let codes = self.codes.lock().unwrap().clone();
        let set: Vec<Value> = phones
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let code = codes.get(p).cloned().unwrap_or_else(|| "Ok".into());
                json!({"SerialNo": format!("2433:{k}"), "PhoneNumber": p, "Fee": 1, "SessionContext": v["SessionContext"],
                       "Code": code, "Message": "testkit", "IsoCode": "CN"})
            })
            .collect();
        if set.iter().all(|s| s["Code"] == "Ok") {
            self.accepted.lock().unwrap().push(v);
            *self.last_accepted.lock().unwrap() = Some(std::time::Instant::now());
        }
        json!({"Response": {"SendStatusSet": set, "RequestId": "testkit"}})
    }

    /// Starts on 127.0.0.1; returns its address (`http://127.0.0.1:PORT`).
    pub async fn start(&self) -> String {
        let me = self.clone();
        let app = axum::Router::new()
            .route("/", post(move |h: HeaderMap, body: Bytes| async move { axum::Json(me.answer(&h, &body)) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }
}
