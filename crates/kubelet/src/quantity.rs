//! Resource quantities ("100Mi", "250m", "1.5G") as numbers.

/// Parses a quantity into its value in base units (bytes, cores), as a float.
///
/// # Errors
///
/// A message naming the malformed quantity.
pub fn parse(text: &str) -> Result<f64, String> {
    let bad = || format!("invalid quantity {text:?}");
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() {
        return Err(bad());
    }
    let number: f64 = number.parse().map_err(|_| bad())?;
    let multiplier = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with('e') || s.starts_with('E') => {
            let exponent: i32 = s[1..].parse().map_err(|_| bad())?;
            10f64.powi(exponent)
        }
        _ => return Err(bad()),
    };
    Ok(number * multiplier)
}

/// Converts a quantity to whole bytes, rounding up. `None` when absent or malformed.
pub fn bytes(q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>) -> Option<i64> {
    q.and_then(|q| parse(&q.0).ok()).map(|v| v.ceil() as i64)
}

/// Converts a CPU quantity to millicores, rounding up. `None` when absent or
/// malformed.
pub fn millicores(
    q: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> Option<i64> {
    q.and_then(|q| parse(&q.0).ok())
        .map(|v| (v * 1000.0).ceil() as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suffixes() {
        let cases = [
            ("100Mi", 104857600.0),
            ("250m", 0.25),
            ("2", 2.0),
            ("1.5G", 1.5e9),
            ("1e3", 1000.0),
            ("64Ki", 65536.0),
        ];
        for (text, want) in cases {
            assert_eq!(super::parse(text).unwrap(), want, "{text}");
        }
        for bad in ["", "Mi", "12Q", "1..2"] {
            assert!(super::parse(bad).is_err(), "{bad}");
        }
    }
}
