//! Connecting to PostgreSQL as libpq would with the same URL: `sslmode` (`disable`,
//! `prefer`, the default, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM
//! file, or `system`) in `DATABASE_URL`, over rustls (docs/operations.md, "Managed
//! services"). Every connection Reel makes goes through `PgTarget`: the pool, migrations
//! and the creation of a missing database.

use std::path::PathBuf;
use std::sync::Arc;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::tls;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "disable" => Self::Disable,
            // libpq's `allow` tries plain first; TLS when offered is as good here.
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }
}

/// A server to connect to, and how.
#[derive(Clone)]
pub struct PgTarget {
    pub config: tokio_postgres::Config,
    pub mode: SslMode,
    tls: Option<MakeRustlsConnect>,
}

impl PgTarget {
    /// Reads `url` (a `postgres://` URL); `Err` says what is wrong with it.
    pub fn parse(url: &str) -> Result<Self, String> {
        let mut parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
        let (mut mode, mut rootcert) = (SslMode::Prefer, None::<String>);
        let mut rest = Vec::new();
        for (key, value) in parsed.query_pairs() {
            match key.as_ref() {
                "sslmode" => mode = SslMode::parse(&value)?,
                "sslrootcert" => rootcert = Some(value.into_owned()),
                _ => rest.push((key.into_owned(), value.into_owned())),
            }
        }
        // The driver knows neither verify mode nor sslrootcert: they are ours to apply.
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(&rest);
        }
        let mut config: tokio_postgres::Config = parsed
            .as_str()
            .parse()
            .map_err(|e: tokio_postgres::Error| e.to_string())?;
        // libpq: a root certificate given with `require` means `verify-ca`.
        if mode == SslMode::Require && rootcert.as_deref().is_some_and(|r| r != "system") {
            mode = SslMode::VerifyCa;
        }
        let ca_file = rootcert.filter(|r| r != "system").map(PathBuf::from);
        config.ssl_mode(match mode {
            SslMode::Disable => WireMode::Disable,
            SslMode::Prefer => WireMode::Prefer,
            _ => WireMode::Require,
        });
        let tls = match mode {
            SslMode::Disable => None,
            _ => Some(MakeRustlsConnect::new(client_config(mode, ca_file)?)),
        };
        Ok(Self { config, mode, tls })
    }

    /// A raw connection to `config` (this target's, or a variant of it), its driver
    /// spawned.
    pub async fn client(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        match &self.tls {
            None => {
                let (client, driver) = config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(driver);
                Ok(client)
            }
            Some(tls) => {
                let (client, driver) = config.connect(tls.clone()).await?;
                tokio::spawn(driver);
                Ok(client)
            }
        }
    }

    /// A diesel connection.
    pub async fn diesel(&self) -> Result<AsyncPgConnection, ConnectionError> {
        let failed = |e: tokio_postgres::Error| ConnectionError::BadConnection(error_chain(&e));
        match &self.tls {
            None => {
                let (client, driver) = self
                    .config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, driver).await
            }
            Some(tls) => {
                let (client, driver) = self.config.connect(tls.clone()).await.map_err(failed)?;
                AsyncPgConnection::try_from_client_and_connection(client, driver).await
            }
        }
    }
}

/// An error with its causes on one line (a TLS failure says why, not only that).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut line = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line = format!("{line}: {text}");
        }
        source = cause.source();
    }
    line
}

fn client_config(mode: SslMode, ca_file: Option<PathBuf>) -> Result<rustls::ClientConfig, String> {
    let provider = tls::provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let verify_chain = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull);
    let config = if verify_chain {
        let verifier = tls::full_verifier(tls::roots(ca_file.as_deref())?)?;
        if mode == SslMode::VerifyFull {
            builder.with_webpki_verifier(verifier).with_no_client_auth()
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(tls::ChainOnly(verifier)))
                .with_no_client_auth()
        }
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(tls::EncryptOnly(provider)))
            .with_no_client_auth()
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslmode_and_rootcert_are_taken_out_of_the_url() {
        let t = PgTarget::parse(
            "postgres://u:p@db.example:6432/reel?sslmode=disable&application_name=x",
        )
        .unwrap();
        assert_eq!(t.mode, SslMode::Disable);
        assert_eq!(t.config.get_application_name(), Some("x"));
        assert_eq!(t.config.get_dbname(), Some("reel"));
        assert_eq!(
            PgTarget::parse("postgres://h/d").unwrap().mode,
            SslMode::Prefer
        );
        assert_eq!(
            PgTarget::parse("postgres://h/d?sslmode=verify-full")
                .unwrap()
                .mode,
            SslMode::VerifyFull
        );
        let bad = PgTarget::parse("postgres://h/d?sslmode=sometimes")
            .err()
            .unwrap();
        assert!(bad.contains("sslmode=sometimes"), "{bad}");
        let missing =
            PgTarget::parse("postgres://h/d?sslmode=verify-ca&sslrootcert=/nonexistent.pem")
                .err()
                .unwrap();
        assert!(missing.contains("/nonexistent.pem"), "{missing}");
    }
}
