//! TLS under the checks: rustls with the ring provider, client side only.
//!
//! Nothing here runs unless a check asks for TLS (`--tls`, `sips:`, `transport=tls`,
//! `rtsps://`): the trust store is read, and the client configuration built, once per set
//! of [`TlsOptions`] (by the command line, which checks its files with the other
//! arguments, or else at the first probe) and shared by every probe made with them (a
//! daemon probes the same target many times a second).
//!
//! - [`TlsOptions`]: trust (the system store, `--ca-file`, or `--insecure`), SNI, a client
//!   certificate, `--min-cert-days`.
//! - [`handshake`]: the handshake over a connected stream, under the probe's deadline,
//!   and what it negotiated ([`Negotiated`]).
//! - [`describe`]: a failed handshake in words ("certificate expired on 2001-01-01").
//! - [`validity`]: the end of a certificate's validity, from its DER bytes.

pub mod describe;
pub mod validity;

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::SystemTime;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tracing::debug;

use crate::net::ProbeContext;
use crate::small_file::{self, Links};
use crate::target::Host;
use crate::{Outcome, Stage, Verdict};

/// Where the system's trusted CA certificates are: Debian and derivatives, then the RHEL
/// family, then SUSE and Alpine.
pub const SYSTEM_TRUST_FILES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// How a check speaks TLS.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Trust this CA (PEM, one or more certificates) instead of the system store.
    pub ca_file: Option<PathBuf>,
    /// Skip verifying the server's certificate (said in the status line).
    pub insecure: bool,
    /// The name sent as SNI and checked against the certificate, instead of the target's
    /// host.
    pub sni: Option<String>,
    /// A client certificate chain and its key (PEM), for servers that require one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// A certificate that ends in fewer days than this is unhealthy.
    pub min_cert_days: Option<u32>,
    /// The client configuration, built at the first handshake and shared by clones.
    config: Arc<OnceLock<Result<Arc<ClientConfig>, String>>>,
}

impl PartialEq for TlsOptions {
    fn eq(&self, other: &Self) -> bool {
        self.ca_file == other.ca_file
            && self.insecure == other.insecure
            && self.sni == other.sni
            && self.client_cert == other.client_cert
            && self.min_cert_days == other.min_cert_days
    }
}

impl Eq for TlsOptions {}

impl TlsOptions {
    /// The client configuration, built once: the trust store and client certificate are
    /// read here, so a missing or unreadable file is this check's failure, in words.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, String> {
        self.config
            .get_or_init(|| self.build().map(Arc::new))
            .clone()
    }

    fn build(&self) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        } else {
            builder.with_root_certificates(self.roots()?)
        };
        match &self.client_cert {
            None => Ok(builder.with_no_client_auth()),
            Some((cert, key)) => {
                let chain = read_certificates(cert, "--cert")?;
                let key = PrivateKeyDer::from_pem_slice(&read_pem_file(key, "--key")?)
                    .map_err(|e| format!("--key {}: {}", key.display(), pem_error(&e)))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("--cert/--key: {e}"))
            }
        }
    }

    /// The CAs to trust: `--ca-file`, or the system's.
    fn roots(&self) -> Result<RootCertStore, String> {
        let (path, what) = match &self.ca_file {
            Some(path) => (path.clone(), "--ca-file"),
            None => {
                let found = SYSTEM_TRUST_FILES
                    .iter()
                    .map(PathBuf::from)
                    .find(|p| p.is_file())
                    .ok_or_else(|| {
                        format!(
                            "no system trust store ({}); give --ca-file",
                            SYSTEM_TRUST_FILES.join(", ")
                        )
                    })?;
                (found, "system trust store")
            }
        };
        let mut roots = RootCertStore::empty();
        let (added, _ignored) = roots.add_parsable_certificates(read_certificates(&path, what)?);
        if added == 0 {
            return Err(format!(
                "{what} {}: no usable CA certificate",
                path.display()
            ));
        }
        Ok(roots)
    }

    /// The name to send as SNI and verify the certificate against: `--sni`, else the
    /// target's host (an address is verified against the certificate's IP addresses, and
    /// sent as no SNI, as RFC 6066 says).
    pub fn server_name(&self, host: &Host) -> Result<ServerName<'static>, String> {
        match (&self.sni, host) {
            (Some(name), _) => ServerName::try_from(name.clone())
                .map_err(|_| format!("--sni '{name}' is not a host name or address")),
            (None, Host::Name(name)) => ServerName::try_from(name.clone())
                .map_err(|_| format!("'{name}' is not a host name TLS can verify")),
            (None, Host::Ip(ip)) => Ok(ServerName::from(*ip)),
        }
    }
}

/// The largest PEM file read: a system bundle is about 220 KiB.
const MAX_PEM_FILE: usize = 4 << 20;

/// The PEM file `what` (`--ca-file`, ...) at `path`, read as every file given on the
/// command line is: without blocking, a regular file only, bounded (a FIFO or /dev/zero
/// is an error at once, not a hang).
fn read_pem_file(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    small_file::read(path, Links::Follow, MAX_PEM_FILE)
        .map_err(|e| format!("{what} {}: {}", path.display(), crate::net::describe_io(&e)))
}

/// Every certificate in the PEM file at `path`; none is an error.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = |e: &dyn std::fmt::Display| format!("{what} {}: {e}", path.display());
    let certificates = CertificateDer::pem_slice_iter(&read_pem_file(path, what)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| shown(&pem_error(&e)))?;
    if certificates.is_empty() {
        return Err(shown(&"no PEM certificate in it"));
    }
    Ok(certificates)
}

/// A PEM error in words.
fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no PEM item of that kind in it (an encrypted key?)".into(),
        other => format!("not PEM: {other:?}"),
    }
}

/// `--insecure`: the certificate is not checked, the handshake's signatures still are (a
/// broken server should not pass for a healthy one).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
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
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
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

/// What a handshake agreed on, and the server's certificate's end of validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// `TLSv1_3`.
    pub version: &'static str,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: &'static str,
    /// The leaf certificate's `notAfter`, seconds since the epoch (when it could be read).
    pub not_after: Option<i64>,
    /// Whether the certificate was verified (not under `--insecure`).
    pub verified: bool,
    /// `--min-cert-days`, which [`Negotiated::judge`] holds the certificate to.
    pub min_days: Option<u32>,
}

impl Negotiated {
    /// Whole days until the certificate ends, from `now`.
    pub fn days_left(&self, now: SystemTime) -> Option<i64> {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs()).ok())?;
        Some(validity::days_left(self.not_after?, now))
    }

    /// Adds the TLS details to `outcome`: version, cipher, and the certificate's end and
    /// days left.
    fn add_details(&self, mut outcome: Outcome, now: SystemTime) -> Outcome {
        outcome = outcome
            .with_detail("tls_version", self.version)
            .with_detail("tls_cipher", self.cipher)
            .with_detail("tls_verified", if self.verified { "yes" } else { "no" });
        if let Some(end) = self.not_after {
            outcome = outcome.with_detail("cert_not_after", validity::date(end));
        }
        if let Some(days) = self.days_left(now) {
            outcome = outcome.with_detail("cert_days_left", days.to_string());
        }
        outcome
    }

    /// The check's outcome once TLS is accounted for: a healthy line says "(certificate not
    /// verified)" under `--insecure`, a certificate ending within `--min-cert-days` makes
    /// the check unhealthy, and the TLS details are added either way.
    pub fn judge(&self, outcome: Outcome, now: SystemTime) -> Outcome {
        let mut outcome = outcome;
        if outcome.verdict == Verdict::Healthy {
            if let Some(why) = self.too_close_to_expiry(now) {
                let rtt = outcome.rtt;
                outcome = Outcome::unhealthy(Stage::Handshake, why);
                outcome.rtt = rtt;
            } else if !self.verified {
                outcome.reason.push_str(" (certificate not verified)");
            }
        }
        self.add_details(outcome, now)
    }

    /// Under `--min-cert-days N`, why the certificate makes the check unhealthy.
    fn too_close_to_expiry(&self, now: SystemTime) -> Option<String> {
        let min = i64::from(self.min_days?);
        let days = self.days_left(now)?;
        let end = validity::date(self.not_after?);
        (days < min).then(|| {
            if days < 0 {
                // Only with --insecure: a verified certificate cannot have ended.
                format!("certificate expired on {end}, under --min-cert-days {min}")
            } else {
                let left = validity::days(days);
                format!("certificate expires in {left} (on {end}), under --min-cert-days {min}")
            }
        })
    }
}

/// Runs the TLS handshake over `stream` (already connected to `host`), under the probe's
/// deadline; a failure is the check's outcome, its reason in words.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &Host,
    opts: &TlsOptions,
    ctx: &ProbeContext,
) -> Result<(Stream<S>, Negotiated), Outcome> {
    let config = opts
        .client_config()
        .map_err(|why| Outcome::unhealthy(Stage::Setup, why))?;
    let name = opts
        .server_name(host)
        .map_err(|why| Outcome::unhealthy(Stage::Setup, why))?;
    ctx.progress
        .enter(Stage::Handshake, "doing the TLS handshake".to_string());
    let stream = TlsConnector::from(config)
        .connect(name.clone(), stream)
        .await
        .map_err(|e| Outcome::unhealthy(Stage::Handshake, describe::handshake_error(&e, &name)))?;
    let (_, conn) = stream.get_ref();
    let negotiated = Negotiated {
        version: match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "TLS",
        },
        cipher: conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .unwrap_or("unknown"),
        not_after: conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| validity::not_after(leaf)),
        verified: !opts.insecure,
        min_days: opts.min_cert_days,
    };
    debug!(
        "TLS: {} {}, certificate {}",
        negotiated.version,
        negotiated.cipher,
        if negotiated.verified {
            "verified"
        } else {
            "not verified"
        }
    );
    Ok((Stream(stream), negotiated))
}

/// An established TLS stream whose errors read as status lines: a TLS alert on the first
/// read (under TLS 1.3 a server refuses a client certificate only after the handshake) or
/// a corrupt record is named in words by whatever reports it.
#[derive(Debug)]
pub struct Stream<S>(TlsStream<S>);

/// `e` with its TLS cause in words, when it has one.
fn worded(e: io::Error) -> io::Error {
    match describe::tls_words(&e) {
        Some(words) => io::Error::new(e.kind(), words),
        None => e,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf).map_err(worded)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf).map_err(worded)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx).map_err(worded)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx).map_err(worded)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const DAY: u64 = 86_400;

    fn negotiated(not_after_days: u64, verified: bool) -> Negotiated {
        Negotiated {
            version: "TLSv1.3",
            cipher: "TLS13_AES_256_GCM_SHA384",
            not_after: i64::try_from(not_after_days * DAY).ok(),
            verified,
            min_days: None,
        }
    }

    fn judged(tls: &Negotiated, min_days: Option<u32>, now_days: u64) -> Outcome {
        let healthy = Outcome::healthy("TLS handshake in 1.000 ms", Duration::from_millis(1));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_days * DAY + 60);
        let tls = Negotiated {
            min_days,
            ..tls.clone()
        };
        tls.judge(healthy, now)
    }

    #[test]
    fn min_cert_days_and_insecure_in_the_verdict() {
        // 100 days left, 30 asked: healthy, the days in the details.
        let fine = judged(&negotiated(1_100, true), Some(30), 1_000);
        assert_eq!(fine.verdict, Verdict::Healthy);
        assert_eq!(fine.detail("cert_days_left"), Some("99"));
        assert_eq!(fine.detail("tls_verified"), Some("yes"));
        // A day and a bit left: "1 day".
        let soon = judged(&negotiated(1_002, true), Some(30), 1_000);
        assert_eq!(soon.verdict, Verdict::Unhealthy);
        assert_eq!(soon.stage, Stage::Handshake);
        assert_eq!(
            soon.reason,
            "certificate expires in 1 day (on 1972-09-29), under --min-cert-days 30"
        );
        // Already ended, seen only under --insecure.
        let ended = judged(&negotiated(990, false), Some(30), 1_000);
        assert_eq!(
            ended.reason,
            "certificate expired on 1972-09-17, under --min-cert-days 30"
        );
        // Without --min-cert-days an ended certificate under --insecure stays healthy,
        // and says it was not verified.
        let insecure = judged(&negotiated(990, false), None, 1_000);
        assert_eq!(insecure.verdict, Verdict::Healthy);
        assert!(
            insecure.reason.ends_with(" (certificate not verified)"),
            "{}",
            insecure.reason
        );
    }
}
