//! TLS for etcd client connections, through rustls (ring): PEM loading with one-line errors that
//! name the file, the client configuration, and the explicit `--insecure-skip-tls-verify` mode.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

use crate::error::{Error, Result};

/// Where distributions keep their CA bundle, used when `--cacert` is not given (like etcdctl,
/// which falls back to the system roots).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The TLS files and mode given on the command line.
#[derive(Clone, Debug, Default)]
pub struct TlsFiles {
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

impl TlsFiles {
    /// True when any TLS flag was given: endpoints without a scheme then mean `https://`.
    pub fn any(&self) -> bool {
        self.cacert.is_some()
            || self.cert.is_some()
            || self.key.is_some()
            || self.insecure_skip_verify
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(what: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            io::ErrorKind::NotFound => "no such file".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::invalid(format!("cannot read {what} {}: {why}", path.display()))
    })
}

/// Reads every certificate of a PEM file; an empty or non-PEM file is an error naming the file.
pub fn load_certs(what: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let bytes = read_file(what, path)?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&bytes) {
        let cert = item.map_err(|e| {
            Error::invalid(format!("{what} {} is not valid PEM: {e}", path.display()))
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(Error::invalid(format!(
            "{what} {} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}

/// Reads the private key (PKCS#8, PKCS#1 RSA or SEC1 EC) of a PEM file.
/// The name of the client-key flag as the running command spells it: `--key`, except on `get`,
/// whose `--key` is the etcd key and whose TLS key is `--key-file`.
static KEY_FLAG: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

pub fn set_key_flag(name: &'static str) {
    let _ = KEY_FLAG.set(name);
}

fn key_flag() -> &'static str {
    KEY_FLAG.get().copied().unwrap_or("--key")
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let bytes = read_file(key_flag(), path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let why = match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                "no PEM private key in it (expected -----BEGIN ... PRIVATE KEY-----)".to_string()
            }
            other => format!("not a valid PEM private key: {other}"),
        };
        Error::invalid(format!("{} {}: {why}", key_flag(), path.display()))
    })
}

fn system_roots() -> Option<(PathBuf, RootCertStore)> {
    for p in SYSTEM_CA_BUNDLES {
        let path = Path::new(p);
        let Ok(certs) = load_certs("CA bundle", path) else {
            continue;
        };
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(certs);
        if added > 0 {
            return Some((path.to_path_buf(), roots));
        }
    }
    None
}

/// Builds the rustls client configuration once, checking every file up front (exit 3 with the
/// file named when one is missing, unreadable or not PEM).
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::general(format!("TLS setup failed: {e}")))?;

    let builder = if files.insecure_skip_verify {
        // Still read --cacert so a broken file is reported, even though it is not used.
        if let Some(ca) = &files.cacert {
            load_certs("--cacert", ca)?;
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoServerVerification(provider)))
    } else {
        let roots = match &files.cacert {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                let (added, _) = roots.add_parsable_certificates(load_certs("--cacert", ca)?);
                if added == 0 {
                    return Err(Error::invalid(format!(
                        "--cacert {}: no usable CA certificate in it",
                        ca.display()
                    )));
                }
                roots
            }
            None => match system_roots() {
                Some((_, roots)) => roots,
                None => {
                    return Err(Error::invalid(
                        "TLS endpoint but no --cacert and no system CA bundle found: pass --cacert \
                         (on kubeadm clusters: /etc/kubernetes/pki/etcd/ca.crt)",
                    ));
                }
            },
        };
        builder.with_root_certificates(roots)
    };

    let mut config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain = load_certs("--cert", cert)?;
            let key_der = load_key(key)?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                Error::invalid(format!(
                    "--cert {} and {} {} do not form a usable client identity: {e}",
                    cert.display(),
                    key_flag(),
                    key.display()
                ))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), None) => {
            return Err(Error::invalid(format!(
                "--cert {} given without {}",
                cert.display(),
                key_flag()
            )));
        }
        (None, Some(key)) => {
            return Err(Error::invalid(format!(
                "{} {} given without --cert",
                key_flag(),
                key.display()
            )));
        }
    };
    // etcd serves gRPC over HTTP/2; it must be negotiated with ALPN.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// The name the server certificate is checked against: the endpoint's host (DNS name or IP).
pub fn server_name(host: &str) -> Result<ServerName<'static>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string())
        .map_err(|_| Error::invalid(format!("{host:?} is not a valid TLS server name")))
}

/// `--insecure-skip-tls-verify`: accepts any server certificate (the handshake signatures are
/// still checked, so the session is encrypted to whoever holds the presented key).
#[derive(Debug)]
struct NoServerVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoServerVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_non_pem_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.crt");
        let e = load_certs("--cacert", &missing).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("nope.crt"), "{e}");
        assert!(e.to_string().contains("no such file"), "{e}");

        let junk = dir.path().join("junk.crt");
        std::fs::write(&junk, "hello\n").unwrap();
        let e = load_certs("--cacert", &junk).unwrap_err();
        assert!(e.to_string().contains("junk.crt"), "{e}");
        assert!(e.to_string().contains("no PEM certificate"), "{e}");

        let e = load_key(&junk).unwrap_err();
        assert!(e.to_string().contains("junk.crt"), "{e}");
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn cert_without_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: Some(dir.path().join("c.crt")),
            insecure_skip_verify: true,
            ..TlsFiles::default()
        };
        let e = client_config(&files).unwrap_err();
        assert!(e.to_string().contains("without --key"), "{e}");
    }

    #[test]
    fn server_names() {
        assert!(matches!(
            server_name("127.0.0.1").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("[::1]").unwrap(),
            ServerName::IpAddress(_)
        ));
        assert!(matches!(
            server_name("etcd.example").unwrap(),
            ServerName::DnsName(_)
        ));
    }
}
