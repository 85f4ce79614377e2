//! How to reach the NATS server: a typed, serde-ready options struct and `connect`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Connection options for NATS, shared by remote routes and workers.
///
/// ```toml
/// url = "tls://nats.example:4222"
/// creds_file = "/etc/switchboard/tenant.creds"
/// tls_ca = "/etc/switchboard/ca.pem"
/// prefix = "sb.v1.tenant-a"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsOptions {
    /// Server URL(s), comma separated (`nats://host:4222`, `tls://...`).
    pub url: String,
    /// Subject prefix: isolates tenants sharing one NATS account (default `sb.v1`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Client name shown by the server's monitoring.
    #[serde(default)]
    pub name: Option<String>,
    /// User name (with `password`).
    #[serde(default)]
    pub user: Option<String>,
    /// Password (with `user`).
    #[serde(default)]
    pub password: Option<String>,
    /// Authentication token.
    #[serde(default)]
    pub token: Option<String>,
    /// NKey seed (`SU...`).
    #[serde(default)]
    pub nkey_seed: Option<String>,
    /// A `.creds` file (JWT + NKey seed).
    #[serde(default)]
    pub creds_file: Option<PathBuf>,
    /// CA certificate(s) (PEM) the server's certificate must chain to.
    #[serde(default)]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM), with `tls_key`.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// Client private key (PEM), with `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Require TLS even without a CA or a client certificate.
    #[serde(default)]
    pub tls_required: bool,
}

fn default_prefix() -> String {
    "sb.v1".to_string()
}

impl NatsOptions {
    /// Options for `url` with the default prefix and no authentication.
    pub fn new(url: impl Into<String>) -> Self {
        NatsOptions {
            url: url.into(),
            prefix: default_prefix(),
            name: None,
            user: None,
            password: None,
            token: None,
            nkey_seed: None,
            creds_file: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            tls_required: false,
        }
    }

    /// Connects with these options. The connection logs its events (disconnects, reconnects,
    /// slow consumers, server errors) through `tracing`, and has no default request timeout:
    /// every remote call passes its own.
    ///
    /// # Errors
    ///
    /// [`ConnectError::Options`] for inconsistent options (a password without a user, a
    /// certificate without its key, more than one authentication method),
    /// [`ConnectError::Creds`] when the creds file cannot be read, and
    /// [`ConnectError::Connect`] when the server cannot be reached or refuses the client.
    pub async fn connect(&self) -> Result<async_nats::Client, ConnectError> {
        let mut options = async_nats::ConnectOptions::new()
            .request_timeout(None)
            .event_callback(|event| async move { log_event(&event) });
        if let Some(name) = &self.name {
            options = options.name(name);
        }
        let methods = [
            self.user.is_some() || self.password.is_some(),
            self.token.is_some(),
            self.nkey_seed.is_some(),
            self.creds_file.is_some(),
        ];
        if methods.iter().filter(|&&m| m).count() > 1 {
            return Err(ConnectError::Options(
                "choose one of user/password, token, nkey_seed and creds_file".to_string(),
            ));
        }
        match (&self.user, &self.password) {
            (Some(user), Some(password)) => {
                options = options.user_and_password(user.clone(), password.clone());
            }
            (None, None) => {}
            _ => {
                return Err(ConnectError::Options(
                    "user and password go together".to_string(),
                ))
            }
        }
        if let Some(token) = &self.token {
            options = options.token(token.clone());
        }
        if let Some(seed) = &self.nkey_seed {
            options = options.nkey(seed.clone());
        }
        if let Some(path) = &self.creds_file {
            options =
                options
                    .credentials_file(path)
                    .await
                    .map_err(|source| ConnectError::Creds {
                        path: path.clone(),
                        source,
                    })?;
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                options = options.add_client_certificate(cert.clone(), key.clone());
            }
            (None, None) => {}
            _ => {
                return Err(ConnectError::Options(
                    "tls_cert and tls_key go together".to_string(),
                ))
            }
        }
        if self.tls_required {
            options = options.require_tls(true);
        }
        options
            .connect(self.url.as_str())
            .await
            .map_err(ConnectError::Connect)
    }
}

fn log_event(event: &async_nats::Event) {
    use async_nats::Event;
    match event {
        Event::Connected => tracing::info!("nats: connected"),
        Event::Disconnected => tracing::warn!("nats: disconnected"),
        // async-nats drops messages past its subscription buffer: a worker that cannot keep up.
        Event::SlowConsumer(sid) => {
            tracing::warn!(subscription = sid, "nats: slow consumer, messages dropped")
        }
        other => tracing::info!("nats: {other}"),
    }
}

/// Why [`NatsOptions::connect`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The options contradict each other.
    #[error("invalid NATS options: {0}")]
    Options(String),
    /// The creds file could not be read.
    #[error("cannot read NATS creds file {}", path.display())]
    Creds {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to NATS")]
    Connect(#[source] async_nats::ConnectError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_load_from_toml_with_defaults() {
        let options: NatsOptions = toml::from_str(
            r#"
            url = "tls://nats.example:4222"
            creds_file = "/etc/sb/tenant.creds"
            tls_ca = "/etc/sb/ca.pem"
            "#,
        )
        .expect("valid options");
        let mut expected = NatsOptions::new("tls://nats.example:4222");
        expected.creds_file = Some("/etc/sb/tenant.creds".into());
        expected.tls_ca = Some("/etc/sb/ca.pem".into());
        assert_eq!(options, expected);
        assert_eq!(options.prefix, "sb.v1");
        let err = toml::from_str::<NatsOptions>("url = \"x\"\nuser_name = \"a\"")
            .expect_err("unknown key");
        assert!(
            err.to_string().contains("unknown field `user_name`"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn contradicting_options_are_refused_before_connecting() {
        let mut options = NatsOptions::new("nats://127.0.0.1:1");
        options.user = Some("a".into());
        match options.connect().await {
            Err(ConnectError::Options(m)) => assert_eq!(m, "user and password go together"),
            other => panic!("{other:?}"),
        }
        options.token = Some("t".into());
        match options.connect().await {
            Err(ConnectError::Options(m)) => {
                assert_eq!(
                    m,
                    "choose one of user/password, token, nkey_seed and creds_file"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
