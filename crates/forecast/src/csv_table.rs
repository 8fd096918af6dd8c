//! The small CSV tables the forecaster is handed (met forecasts, emissions histories), read from
//! bytes: a header, then rows numbered by their line in the file, so errors can name both.

use chrono::NaiveDateTime;

use crate::ForecastError;

pub(crate) struct CsvTable<'a> {
    file: &'a str,
    header: Vec<&'a str>,
    /// (line number in the file, cells) for every non-empty row.
    pub rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> CsvTable<'a> {
    pub fn parse(file: &'a str, bytes: &'a [u8]) -> Result<CsvTable<'a>, ForecastError> {
        let text = std::str::from_utf8(bytes).map_err(|_| ForecastError::Input(format!("{file}: not UTF-8 text")))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or("").split(',').map(str::trim).collect();
        let rows = lines
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(k, l)| (k + 2, l.split(',').map(str::trim).collect()))
            .collect();
        Ok(CsvTable { file, header, rows })
    }

    pub fn error(&self, message: String) -> ForecastError {
        ForecastError::Input(format!("{}: {message}", self.file))
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| *h == name)
    }

    pub fn required(&self, name: &str) -> Result<usize, ForecastError> {
        self.column(name).ok_or_else(|| self.error(format!("required column `{name}` is missing")))
    }

    /// The local time in a cell, or an error naming the line and column.
    pub fn time(&self, line: usize, cells: &[&str], c: usize, name: &str) -> Result<NaiveDateTime, ForecastError> {
        let text = cells.get(c).copied().unwrap_or("");
        hazewarn_ingest::parse_local_time(text)
            .ok_or_else(|| self.error(format!("line {line}, column `{name}`: `{text}` is not a time")))
    }

    /// A number, `None` when the cell is empty or `NA`, or an error naming the line and column.
    pub fn number(&self, line: usize, cells: &[&str], c: usize, name: &str) -> Result<Option<f64>, ForecastError> {
        let text = cells.get(c).copied().unwrap_or("");
        if text.is_empty() || text == "NA" {
            return Ok(None);
        }
        text.parse::<f64>()
            .map(Some)
            .map_err(|_| self.error(format!("line {line}, column `{name}`: `{text}` is not a number")))
    }
}
