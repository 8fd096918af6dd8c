//! How a person at an enterprise (or the office's duty officer) is reached: a mainland mobile
//! number for SMS, an e-mail address, and a work-group robot. Each is checked where it is
//! typed, so a notice never waits on an address that could not have worked.

use serde::{Deserialize, Serialize};

/// An enterprise's contacts beyond the free-text 联系人及电话 column.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contacts {
    /// Eleven digits, as [`parse_mobile`] leaves them.
    pub mobile: Option<String>,
    pub email: Option<String>,
    /// The group robot's webhook address (企业微信 or 钉钉).
    pub robot: Option<String>,
}

impl Contacts {
    pub fn is_empty(&self) -> bool {
        self.mobile.is_none() && self.email.is_none() && self.robot.is_none()
    }
}

/// A mainland mobile number: eleven digits, the first 1 and the second 3–9 (the ranges the
/// carriers are allotted). A leading `+86` is accepted and dropped; nothing else is rewritten.
pub fn parse_mobile(s: &str) -> Result<String, String> {
    let digits = s.strip_prefix("+86").unwrap_or(s);
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a mainland mobile number (11 digits, optionally after +86)"));
    }
    let b = digits.as_bytes();
    if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
        return Err(format!("`{s}` is not a mainland mobile number: it must start 13–19"));
    }
    Ok(digits.to_owned())
}

/// An e-mail address as an SMTP server takes it (RFC 5321 `Mailbox`, dot-atom forms only): a
/// local part of letters, digits and ``!#$%&'*+-/=?^_`{|}~`` in dot-separated atoms, `@`, and a
/// domain of at least two dot-separated labels of letters, digits and inner hyphens.
pub fn parse_email(s: &str) -> Result<String, String> {
    let bad = |why: &str| Err(format!("`{s}` is not an e-mail address: {why}"));
    let Some((local, domain)) = s.rsplit_once('@') else { return bad("no `@`") };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before `@` must have 1 to 64 characters");
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if local.split('.').any(|atom| atom.is_empty() || !atom.chars().all(atext)) {
        return bad("the part before `@` has a character or dot an address cannot carry");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if domain.len() > 253 || labels.len() < 2 {
        return bad("the domain must be a name such as example.com");
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return bad("the domain has an empty label or a character a host name cannot carry");
    }
    Ok(s.to_owned())
}

/// Which service a group robot's address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RobotKind {
    /// 企业微信 group robot: `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
    Wecom,
    /// 钉钉 custom robot: `https://oapi.dingtalk.com/robot/send?access_token=…`.
    Dingtalk,
}

/// The service of a robot address; only the two services' own https addresses are taken, so a
/// typo cannot send a notice to some other host.
pub fn robot_kind(s: &str) -> Result<RobotKind, String> {
    const WECOM: &str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=";
    const DINGTALK: &str = "https://oapi.dingtalk.com/robot/send?access_token=";
    let keyed =
        |prefix: &str| s.strip_prefix(prefix).is_some_and(|key| !key.is_empty() && !key.contains(['&', '#', ' ']));
    if keyed(WECOM) {
        Ok(RobotKind::Wecom)
    } else if keyed(DINGTALK) {
        Ok(RobotKind::Dingtalk)
    } else {
        Err(format!(
            "`{s}` is neither a 企业微信 robot address (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…) \
             nor a 钉钉 one (https://oapi.dingtalk.com/robot/send?access_token=…)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_eleven_digits_starting_13_to_19() {
        assert_eq!(parse_mobile("13903950001").unwrap(), "13903950001");
        assert_eq!(parse_mobile("+8619903950001").unwrap(), "19903950001");
        for bad in [
            "12903950001",
            "10903950001",
            "1390395000",
            "139039500012",
            "139 0395 0001",
            "139-0395-0001",
            "0395-5500001",
            "",
        ] {
            assert!(parse_mobile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_addresses_follow_the_smtp_mailbox_forms() {
        for ok in ["duty@luohe.gov.cn", "a.b+c@mail.example.com", "x_y@a-b.cn"] {
            assert_eq!(parse_email(ok).unwrap(), ok);
        }
        for bad in [
            "duty",
            "@luohe.gov.cn",
            "duty@",
            "duty@localhost",
            "a..b@x.cn",
            ".a@x.cn",
            "a b@x.cn",
            "a@-x.cn",
            "a@x..cn",
            "张三@x.cn",
            "a@x.cn ",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn robot_addresses_name_their_service() {
        assert_eq!(
            robot_kind("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6").unwrap(),
            RobotKind::Wecom
        );
        assert_eq!(robot_kind("https://oapi.dingtalk.com/robot/send?access_token=abc").unwrap(), RobotKind::Dingtalk);
        for bad in [
            "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
            "https://evil.example/robot/send?access_token=x",
        ] {
            assert!(robot_kind(bad).is_err(), "{bad}");
        }
    }
}
