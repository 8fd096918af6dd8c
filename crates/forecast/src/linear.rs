//! The linear forecaster: an elastic net (linfa) per lead band on standardised features.
//! Missing features take the training mean (0 after standardising).

use linfa::prelude::*;
use linfa_elasticnet::ElasticNet;
use ndarray::{Array1, Array2};

use crate::ForecastError;

/// A fitted band: the standardisation and the elastic net's coefficients.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LinearBand {
    mean: Vec<f64>,
    sd: Vec<f64>,
    weights: Vec<f64>,
    intercept: f64,
}

fn standardise(rows: &[f64], p: usize, mean: &[f64], sd: &[f64]) -> Array2<f64> {
    let n = rows.len() / p;
    Array2::from_shape_fn((n, p), |(i, j)| {
        let v = rows[i * p + j];
        if v.is_finite() { (v - mean[j]) / sd[j] } else { 0.0 }
    })
}

impl LinearBand {
    pub fn fit(rows: &[f64], y: &[f64], p: usize, penalty: f64) -> Result<LinearBand, ForecastError> {
        let n = y.len();
        let (mut mean, mut sd) = (vec![0.0; p], vec![1.0; p]);
        for j in 0..p {
            let col: Vec<f64> = (0..n).map(|i| rows[i * p + j]).filter(|v| v.is_finite()).collect();
            if col.len() > 1 {
                let m = col.iter().sum::<f64>() / col.len() as f64;
                let v = col.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (col.len() - 1) as f64;
                mean[j] = m;
                sd[j] = if v > 1e-12 { v.sqrt() } else { 1.0 };
            }
        }
        let x = standardise(rows, p, &mean, &sd);
        let ds = Dataset::new(x, Array1::from(y.to_vec()));
        let model = ElasticNet::params()
            .penalty(penalty)
            .l1_ratio(0.5)
            .fit(&ds)
            .map_err(|e| ForecastError::Model(format!("elastic net: {e}")))?;
        Ok(LinearBand { mean, sd, weights: model.hyperplane().to_vec(), intercept: model.intercept() })
    }

    pub fn predict(&self, rows: &[f64], p: usize) -> Vec<f64> {
        rows.chunks(p)
            .map(|r| {
                let z = r
                    .iter()
                    .zip(&self.mean)
                    .zip(&self.sd)
                    .map(|((v, m), s)| if v.is_finite() { (v - m) / s } else { 0.0 });
                self.intercept + z.zip(&self.weights).map(|(z, w)| z * w).sum::<f64>()
            })
            .collect()
    }
}
