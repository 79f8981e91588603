//! Why a TLS handshake or stream failed, in the words of a status line: what the
//! certificate names, when it expired, which alert the server sent, or that the port
//! does not speak TLS at all.

use std::io;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError, Error, InvalidMessage};

use super::validity;

/// A failed handshake with `name`.
pub fn handshake_error(e: &io::Error, name: &ServerName<'_>) -> String {
    match tls_error(e) {
        Some(tls) => describe(tls, &shown_name(name)),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "connection closed during the TLS handshake (not a TLS port, or our hello refused)"
                .into()
        }
        None => format!("TLS handshake: {}", crate::net::describe_io(e)),
    }
}

/// The TLS cause of an error reading or writing an established stream, in words; `None`
/// when it has no TLS cause (a reset, a timeout: said as the plain checks say them).
pub fn tls_words(e: &io::Error) -> Option<String> {
    tls_error(e).map(|tls| describe(tls, "the server"))
}

/// The rustls error inside an I/O error from tokio-rustls, if there is one.
fn tls_error(e: &io::Error) -> Option<&Error> {
    e.get_ref()?.downcast_ref::<Error>()
}

fn describe(e: &Error, name: &str) -> String {
    match e {
        Error::InvalidCertificate(cert) => certificate(cert, name),
        Error::AlertReceived(alert) => alert_received(*alert),
        Error::InvalidMessage(InvalidMessage::InvalidContentType)
        | Error::InvalidMessage(InvalidMessage::UnknownProtocolVersion) => {
            "the server answered in plaintext where TLS was expected (not a TLS port?)".into()
        }
        Error::PeerIncompatible(why) => {
            format!("no common TLS protocol version or cipher suite ({why:?})")
        }
        Error::NoCertificatesPresented => "the server presented no certificate".into(),
        other => format!("TLS: {other}"),
    }
}

fn certificate(e: &CertificateError, name: &str) -> String {
    match e {
        CertificateError::UnknownIssuer => format!(
            "certificate of {name} not signed by a trusted CA (unknown issuer; --ca-file to \
             trust a private CA)"
        ),
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names = if presented.is_empty() {
                "no name".to_string()
            } else {
                let names: Vec<&str> = presented.iter().map(|n| presented_name(n)).collect();
                names.join(", ")
            };
            format!("certificate name mismatch: it names {names}, not {name} (--sni to check another name)")
        }
        CertificateError::NotValidForName => {
            format!("certificate name mismatch: not valid for {name}")
        }
        CertificateError::ExpiredContext { time, not_after } => {
            let ended = unix(not_after.as_secs());
            let days = validity::days_left(unix(time.as_secs()), ended);
            format!(
                "certificate of {name} expired on {} ({} ago)",
                validity::date(ended),
                validity::days(days)
            )
        }
        CertificateError::Expired => format!("certificate of {name} expired"),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "certificate of {name} not valid before {} (is this host's clock right?)",
            validity::date(unix(not_before.as_secs()))
        ),
        CertificateError::NotValidYet => format!("certificate of {name} not valid yet"),
        CertificateError::Revoked => format!("certificate of {name} revoked"),
        CertificateError::BadSignature => format!("certificate of {name} has a bad signature"),
        CertificateError::BadEncoding => format!("certificate of {name} is not valid DER"),
        other => format!("certificate of {name} refused: {other:?}"),
    }
}

fn alert_received(alert: AlertDescription) -> String {
    let words = match alert {
        AlertDescription::HandshakeFailure => {
            "handshake failure: no common cipher suite or protocol version?"
        }
        AlertDescription::ProtocolVersion => "no common TLS protocol version",
        AlertDescription::CertificateRequired => {
            "the server requires a client certificate (--cert, --key)"
        }
        AlertDescription::BadCertificate
        | AlertDescription::UnknownCA
        | AlertDescription::UnsupportedCertificate
        | AlertDescription::CertificateUnknown
        | AlertDescription::AccessDenied => "the server refused our client certificate",
        AlertDescription::CertificateExpired => "the server says our client certificate expired",
        AlertDescription::UnrecognisedName => "the server does not know the name sent as SNI",
        AlertDescription::InternalError => "the server failed internally",
        _ => "",
    };
    if words.is_empty() {
        format!("TLS alert from the server: {alert:?}")
    } else {
        format!("TLS alert from the server: {words} ({alert:?})")
    }
}

/// A name the certificate presents, as rustls reports it (`DnsName("sip.example")`,
/// `IpAddress(10.0.0.5)`), the way an operator writes it.
fn presented_name(reported: &str) -> &str {
    reported
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            reported
                .strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        })
        .unwrap_or(reported)
}

/// The name as operators wrote it: a DNS name, or an address.
fn shown_name(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "the server".into(),
    }
}

fn unix(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::UnixTime;

    fn wrapped(e: Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn each_failure_in_words() {
        let name = ServerName::try_from("sip.example").unwrap();
        let said = |e: Error| handshake_error(&wrapped(e), &name);
        assert!(
            said(Error::InvalidCertificate(CertificateError::UnknownIssuer))
                .contains("not signed by a trusted CA")
        );
        let mismatch = said(Error::InvalidCertificate(
            CertificateError::NotValidForNameContext {
                expected: name.to_owned(),
                presented: vec![
                    "DnsName(\"other.example\")".into(),
                    "IpAddress(10.0.0.5)".into(),
                    "URI".into(),
                ],
            },
        ));
        assert_eq!(
            mismatch,
            "certificate name mismatch: it names other.example, 10.0.0.5, URI, not sip.example \
             (--sni to check another name)"
        );
        let expired = said(Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(86_400 * 40)),
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(86_400 * 30)),
            },
        ));
        assert_eq!(
            expired,
            "certificate of sip.example expired on 1970-01-31 (10 days ago)"
        );
        let yesterday = said(Error::InvalidCertificate(
            CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(std::time::Duration::from_secs(86_400 * 31 + 60)),
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(86_400 * 30)),
            },
        ));
        assert!(yesterday.ends_with("(1 day ago)"), "{yesterday}");
        assert!(
            said(Error::InvalidMessage(InvalidMessage::InvalidContentType))
                .contains("plaintext where TLS was expected")
        );
        assert!(
            said(Error::AlertReceived(AlertDescription::CertificateRequired))
                .contains("requires a client certificate")
        );
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        assert!(handshake_error(&eof, &name).starts_with("connection closed during the TLS"));
        let refused = io::Error::from_raw_os_error(libc::ECONNRESET);
        assert_eq!(
            handshake_error(&refused, &name),
            "TLS handshake: connection reset by peer"
        );
    }
}
