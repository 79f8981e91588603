//! A test PKI (made with rcgen at run time) and TLS peers on loopback: a server that
//! completes the handshake and then behaves as told, optionally requiring a client
//! certificate.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

use super::{echo_line, tcp_peer, Scratch};

/// A certificate and its key, as PEM files in the scratch directory.
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Test CAs and certificates: `ca` signs the server certificates, `client_ca` the client's.
pub struct Pki {
    /// Holds the files; removed with the PKI.
    _dir: Scratch,
    pub ca: PathBuf,
    pub client_ca: PathBuf,
    /// For 127.0.0.1 and localhost, valid from yesterday for 90 days.
    pub server: Pair,
    /// For other.example only.
    pub other_name: Pair,
    /// Ended on 2001-01-01.
    pub expired: Pair,
    /// Ends in about ten days.
    pub ending_soon: Pair,
    /// A client certificate signed by `client_ca`.
    pub client: Pair,
}

fn new_ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (params, KeyPair::generate().expect("CA key"))
}

impl Pki {
    pub fn new(tag: &str) -> Pki {
        let dir = Scratch::new(&format!("tls-{tag}"));
        let write = |name: &str, pem: &str| {
            let path = dir.path(name);
            std::fs::write(&path, pem).expect("write PEM");
            path
        };
        let (ca_params, ca_key) = new_ca("keepalived-checks test CA");
        let ca = write("ca.pem", &ca_params.self_signed(&ca_key).expect("CA").pem());
        let issuer = Issuer::new(ca_params, ca_key);
        let (client_ca_params, client_ca_key) = new_ca("keepalived-checks client CA");
        let client_ca = write(
            "client-ca.pem",
            &client_ca_params
                .self_signed(&client_ca_key)
                .expect("client CA")
                .pem(),
        );
        let client_issuer = Issuer::new(client_ca_params, client_ca_key);
        let leaf = |name: &str,
                    sans: &[&str],
                    span: Option<(Ymd, Ymd)>,
                    usage: ExtendedKeyUsagePurpose,
                    issuer: &Issuer<'_, KeyPair>| {
            let mut params =
                CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .expect("leaf params");
            params.distinguished_name.push(DnType::CommonName, name);
            params.use_authority_key_identifier_extension = true;
            params.extended_key_usages = vec![usage];
            if let Some(((y0, m0, d0), (y1, m1, d1))) = span {
                params.not_before = date_time_ymd(y0, m0, d0);
                params.not_after = date_time_ymd(y1, m1, d1);
            }
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, issuer).expect("sign leaf");
            Pair {
                cert: write(&format!("{name}.pem"), &cert.pem()),
                key: write(&format!("{name}.key"), &key.serialize_pem()),
            }
        };
        let server_auth = ExtendedKeyUsagePurpose::ServerAuth;
        let soon = (days_from_now(-30), days_from_now(10));
        Pki {
            server: leaf(
                "server",
                &["127.0.0.1", "localhost"],
                Some((days_from_now(-1), days_from_now(90))),
                server_auth.clone(),
                &issuer,
            ),
            other_name: leaf(
                "other",
                &["other.example"],
                None,
                server_auth.clone(),
                &issuer,
            ),
            expired: leaf(
                "expired",
                &["127.0.0.1"],
                Some(((2000, 1, 1), (2001, 1, 1))),
                server_auth.clone(),
                &issuer,
            ),
            ending_soon: leaf("soon", &["127.0.0.1"], Some(soon), server_auth, &issuer),
            client: leaf(
                "client",
                &["check-sip.example"],
                None,
                ExtendedKeyUsagePurpose::ClientAuth,
                &client_issuer,
            ),
            _dir: dir,
            ca,
            client_ca,
        }
    }

    /// A server configuration presenting `pair`; requiring a client certificate signed
    /// by the client CA when `require_client` is set.
    pub fn server_config(&self, pair: &Pair, require_client: bool) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions");
        let builder = if require_client {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(&self.client_ca).expect("client CA") {
                roots
                    .add(cert.expect("client CA cert"))
                    .expect("add client CA");
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let chain = CertificateDer::pem_file_iter(&pair.cert)
            .expect("cert")
            .collect::<Result<Vec<_>, _>>()
            .expect("certs");
        let key = PrivateKeyDer::from_pem_file(&pair.key).expect("key");
        Arc::new(builder.with_single_cert(chain, key).expect("server config"))
    }

    pub fn ca_file(&self) -> String {
        self.ca.to_string_lossy().into_owned()
    }
}

/// A date: year, month, day.
type Ymd = (i32, u8, u8);

/// Today plus `days` (UTC), at midnight.
fn days_from_now(days: i64) -> Ymd {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let secs = i64::try_from(now).expect("secs") + days * 86_400;
    let date = keepalived_checks::tls::validity::date(secs);
    let part = |i: usize| date.split('-').nth(i).expect("date part");
    (
        part(0).parse().expect("year"),
        part(1).parse().expect("month"),
        part(2).parse().expect("day"),
    )
}

/// What a TLS peer does once the handshake is done.
#[derive(Clone, Copy)]
pub enum After {
    /// Holds the connection open, saying nothing.
    Hold,
    /// Reads one line and echoes it back.
    EchoLine,
}

/// A TLS server on 127.0.0.1 (a [`tcp_peer`]); its address.
pub fn tls_peer(config: Arc<ServerConfig>, after: After) -> SocketAddr {
    tcp_peer("127.0.0.1:0", move |tcp| serve(config.clone(), tcp, after))
}

fn serve(config: Arc<ServerConfig>, tcp: TcpStream, after: After) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(conn, tcp);
    // Drives the handshake to its end (or its failure, whose alert rustls sends).
    while tls.conn.is_handshaking() {
        if tls.conn.complete_io(&mut tls.sock).is_err() {
            return;
        }
    }
    match after {
        After::Hold => thread::sleep(Duration::from_secs(5)),
        After::EchoLine => echo_line(tls),
    }
}
