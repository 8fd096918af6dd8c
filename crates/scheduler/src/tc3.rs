//! TencentCloud API "Signature v3" (TC3-HMAC-SHA256) of a POST with a JSON body, as the
//! documentation specifies it: a canonical request (method, `/`, empty query, the signed headers
//! in lower case, their names, the body's SHA-256), a string to sign with the UTC date's
//! credential scope, and a key derived from the secret key by date, service and `tc3_request`.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// One TencentCloud API request to sign: a POST of a JSON body.
#[derive(Debug, Clone)]
pub struct Tc3Request<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub host: &'a str,
    pub service: &'a str,
    /// Headers signed besides `host`, as sent (`content-type`, and `x-tc-action` as the
    /// documentation's example does); names and values are signed in lower case.
    pub headers: &'a [(&'a str, &'a str)],
    pub timestamp: i64,
    pub payload: &'a str,
}

impl Tc3Request<'_> {
    /// The canonical request: method, URI `/`, empty query, the signed headers (name:value,
    /// each line ended), their names, and the hex SHA-256 of the body.
    pub fn canonical_request(&self) -> String {
        let mut headers: Vec<(String, String)> =
            self.headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_ascii_lowercase())).collect();
        headers.push(("host".into(), self.host.to_owned()));
        headers.sort();
        let canonical: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        format!("POST\n/\n\n{canonical}\n{}\n{}", signed.join(";"), hex(&Sha256::digest(self.payload.as_bytes())))
    }

    fn signed_headers(&self) -> String {
        let mut names: Vec<String> = self.headers.iter().map(|(k, _)| k.to_ascii_lowercase()).collect();
        names.push("host".into());
        names.sort();
        names.join(";")
    }

    fn date(&self) -> String {
        DateTime::<Utc>::from_timestamp(self.timestamp, 0)
            .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
    }

    pub fn string_to_sign(&self) -> String {
        let scope = format!("{}/{}/tc3_request", self.date(), self.service);
        let hashed = hex(&Sha256::digest(self.canonical_request().as_bytes()));
        format!("TC3-HMAC-SHA256\n{}\n{scope}\n{hashed}", self.timestamp)
    }

    /// The hex signature: the string to sign, HMAC-SHA256 under the key derived from the secret
    /// key by the date, the service and `tc3_request`.
    pub fn signature(&self) -> String {
        let date_key = hmac(format!("TC3{}", self.secret_key).as_bytes(), &self.date());
        let service_key = hmac(&date_key, self.service);
        let signing_key = hmac(&service_key, "tc3_request");
        hex(&hmac(&signing_key, &self.string_to_sign()))
    }

    pub fn authorization(&self) -> String {
        format!(
            "TC3-HMAC-SHA256 Credential={}/{}/{}/tc3_request, SignedHeaders={}, Signature={}",
            self.secret_id,
            self.date(),
            self.service,
            self.signed_headers(),
            self.signature()
        )
    }
}
