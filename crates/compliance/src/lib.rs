//! Did they curtail? For each warning step, enterprise and line, the required treatment (stop,
//! cut N %, self-directed, none) is compared with what was measured: production power and the
//! emission rate against their baselines, and whether the abatement equipment kept running while
//! production ran. The answer is a [`Verdict`]: complied, suspected non-compliance (with its
//! evidence and how sure), not required, or no data.
//!
//! Pure: no IO and no clock. The baseline is the same hours of the days before the warning's
//! start ([`baseline`]); the tolerances are versioned rule data ([`Tolerances`], TOML in
//! `rules/`). Its own crate because the evaluation is a capability of its own, fed by the HJ 212
//! receiver and power feeds at the edge and read by the office's board.

mod baseline;
mod power;
mod tolerance;
mod verdict;

pub use baseline::{Baseline, Reading, baseline};
pub use power::{PowerReading, hourly_means, parse_power};
pub use tolerance::Tolerances;
pub use verdict::{LineEvidence, LineVerdict, Series, Treatment, Verdict, evaluate};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplianceError {
    #[error("{file}: {message}")]
    Rules { file: String, message: String },
    /// A power feed that cannot be read; nothing of it was taken.
    #[error("{file}: {message}")]
    Feed { file: String, message: String },
}

#[cfg(test)]
mod tests;
