//! Settings given as files: `NAME_FILE=/run/secrets/x` sets the setting `NAME` would
//! (`DATABASE_URL_FILE`, `REEL_METRICS__TOKEN_FILE`, `REEL_STORAGE__SECRET_ACCESS_KEY_FILE`,
//! …), as Docker and Kubernetes mount secrets. The file's trailing newline is ignored.

use figment::value::Value;

/// A setting read from a file: its key (`metrics.token`) and value.
pub struct FileSetting {
    pub key: String,
    pub value: Value,
}

/// The `NAME_FILE` variables of `vars` whose `NAME` names a setting of `defaults` (the
/// defaults serialized: every key is there) and which are not settings themselves
/// (`REEL_REDIS_CA_FILE` is a path, not a secret).
pub fn from_env(
    vars: impl Iterator<Item = (String, String)>,
    defaults: &serde_json::Value,
) -> Result<Vec<FileSetting>, String> {
    let vars: Vec<(String, String)> = vars.collect();
    let mut settings = Vec::new();
    for (name, path) in &vars {
        let Some(base) = name.strip_suffix("_FILE") else {
            continue;
        };
        let (Some(key), own) = (key_of(base), key_of(name)) else {
            continue;
        };
        if own.is_some_and(|own| lookup(defaults, &own).is_some()) {
            continue;
        }
        let Some(default) = lookup(defaults, &key) else {
            continue;
        };
        if vars.iter().any(|(other, _)| other == base) {
            return Err(format!("both {base} and {name} are set; keep one"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}={path}: {e}"))?;
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let text = text.strip_suffix('\r').unwrap_or(text);
        // Read as the environment variable would be, except that a text setting stays
        // text whatever it looks like (a password "1234").
        let value = match default {
            serde_json::Value::String(_) => Value::from(text.to_string()),
            _ => text
                .parse()
                .unwrap_or_else(|_| Value::from(text.to_string())),
        };
        settings.push(FileSetting { key, value });
    }
    Ok(settings)
}

/// The setting an environment variable names, as a dotted key.
fn key_of(name: &str) -> Option<String> {
    match name {
        "DATABASE_URL" => Some("database_url".into()),
        "REDIS_URL" => Some("redis_url".into()),
        _ => name
            .strip_prefix("REEL_")
            .filter(|rest| !rest.is_empty())
            .map(|rest| rest.to_ascii_lowercase().replace("__", ".")),
    }
}

fn lookup<'a>(tree: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    key.split('.').try_fold(tree, |node, part| node.get(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn file_variables_name_settings_and_only_settings() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_string()
        };
        let url = write("url", "postgres://u:secret@db/reel\n");
        let token = write("token", "1234\r\n");
        let size = write("size", "9\n");
        let defaults = serde_json::json!({
            "database_url": "", "redis_ca_file": null,
            "metrics": { "token": "" }, "database": { "pool_size": 16 },
        });
        let found = from_env(
            vars(&[
                ("DATABASE_URL_FILE", &url),
                ("REEL_METRICS__TOKEN_FILE", &token),
                ("REEL_DATABASE__POOL_SIZE_FILE", &size),
                // A setting of its own, and a variable that names nothing.
                ("REEL_REDIS_CA_FILE", "/etc/ca.pem"),
                ("HOME_FILE", "/nonexistent"),
            ]),
            &defaults,
        )
        .unwrap();
        let got: Vec<(String, String)> = found
            .iter()
            .map(|s| (s.key.clone(), format!("{:?}", s.value)))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "database_url");
        assert!(
            got[0].1.contains("\"postgres://u:secret@db/reel\""),
            "{got:?}"
        );
        assert_eq!(got[1].0, "metrics.token");
        assert!(
            got[1].1.contains("\"1234\""),
            "a text setting stays text: {got:?}"
        );
        assert_eq!(got[2].0, "database.pool_size");

        let both = from_env(
            vars(&[("DATABASE_URL", "x"), ("DATABASE_URL_FILE", &url)]),
            &defaults,
        );
        assert!(
            both.err()
                .unwrap()
                .contains("both DATABASE_URL and DATABASE_URL_FILE")
        );
        let missing = from_env(vars(&[("DATABASE_URL_FILE", "/nonexistent/x")]), &defaults);
        assert!(missing.err().unwrap().contains("/nonexistent/x"));
    }
}
