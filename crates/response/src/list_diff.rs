//! What a new reduction-list version changes against the one in use: the enterprises added,
//! removed and changed (and which of their fields), so the office sees what an import does
//! before it confirms it.

use serde::Serialize;

use crate::list::{Enterprise, ReductionList};

/// One enterprise, as the office recognises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedEnterprise {
    pub credit_code: String,
    pub name: String,
}

/// An enterprise on both lists whose entry differs, with the fields that differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangedEnterprise {
    pub credit_code: String,
    pub name: String,
    pub fields: Vec<&'static str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListDiff {
    pub added: Vec<ListedEnterprise>,
    pub removed: Vec<ListedEnterprise>,
    pub changed: Vec<ChangedEnterprise>,
    /// Enterprises on both lists with identical entries.
    pub unchanged: usize,
}

impl ListDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

fn listed(e: &Enterprise) -> ListedEnterprise {
    ListedEnterprise { credit_code: e.credit_code.as_str().to_owned(), name: e.name.clone() }
}

/// The same lines, whatever their order in the file.
fn same_lines(e: &Enterprise, f: &Enterprise) -> bool {
    e.lines.len() == f.lines.len() && e.lines.iter().all(|l| f.lines.iter().any(|m| m == l))
}

/// The fields of `e` that differ in `f` (the same enterprise on the other list).
fn changed_fields(e: &Enterprise, f: &Enterprise) -> Vec<&'static str> {
    let checks: [(&'static str, bool); 12] = [
        ("name", e.name != f.name),
        ("county", e.county != f.county),
        ("industry", e.industry != f.industry),
        ("grade", e.grade != f.grade),
        ("guarantee_reason", e.guarantee != f.guarantee),
        ("whitelist_reason", e.whitelist != f.whitelist),
        ("contact", e.contact != f.contact),
        ("endpoint", e.endpoint != f.endpoint),
        ("mobile", e.contacts.mobile != f.contacts.mobile),
        ("email", e.contacts.email != f.contacts.email),
        ("robot", e.contacts.robot != f.contacts.robot),
        ("lines", !same_lines(e, f)),
    ];
    checks.into_iter().filter(|(_, differs)| *differs).map(|(name, _)| name).collect()
}

impl ReductionList {
    /// What `new` changes against this list, enterprises matched by credit code, in each
    /// list's order.
    pub fn diff(&self, new: &ReductionList) -> ListDiff {
        let find = |list: &ReductionList, e: &Enterprise| {
            list.enterprises.iter().find(|x| x.credit_code == e.credit_code).cloned()
        };
        let mut d = ListDiff::default();
        for e in &new.enterprises {
            match find(self, e) {
                None => d.added.push(listed(e)),
                Some(old) => {
                    let fields = changed_fields(&old, e);
                    if fields.is_empty() {
                        d.unchanged += 1;
                    } else {
                        d.changed.push(ChangedEnterprise {
                            credit_code: listed(e).credit_code,
                            name: e.name.clone(),
                            fields,
                        });
                    }
                }
            }
        }
        d.removed = self.enterprises.iter().filter(|e| find(new, e).is_none()).map(listed).collect();
        d
    }
}
