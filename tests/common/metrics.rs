//! Reading Prometheus text: `/metrics` answers, or this process's recorder (a `TestApp`
//! serves in the test's own process).

/// The value of the sample `name{labels…}` (labels in any order), or `None`.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, "}"));
            if metric != name {
                return None;
            }
            let all = labels
                .iter()
                .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
            all.then(|| value.parse().ok()).flatten()
        })
}

/// A counter of this process as now recorded (0 before its first increment).
pub fn counter(name: &str) -> f64 {
    sample(&reel::metrics::handle().render(), name, &[]).unwrap_or(0.0)
}
