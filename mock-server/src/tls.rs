//! TLS for the mock: one crypto provider (aws-lc-rs), a CA and a leaf generated at start.
//!
//! The leaf is valid for `localhost`, `127.0.0.1` and `::1`, signed by a CA that exists only in
//! this process; callers trust it through [`Certificates::ca_pem`]. ALPN offers `http/1.1`
//! only, because poolsweep models HTTP/1.1 socket pools. Session resumption is on (stateful
//! cache, TLS 1.3 tickets that refer to it, TLS 1.2 session ids), so clients that resume can.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ServerSessionMemoryCache;

use crate::config::KeyType;

/// Sessions the server remembers for resumption. rustls' default is 256; a sweep opens
/// thousands of connections between resumptions of the same client, so keep more.
const SESSION_CACHE_SIZE: usize = 16 * 1024;

/// Installs aws-lc-rs as the process's rustls crypto provider. Safe to call more than once:
/// if a provider is already installed, it is kept.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed; keeping that one is
    // what we want (two providers in one process would make rustls refuse to pick).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The generated CA and leaf.
pub struct Certificates {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    leaf_der: CertificateDer<'static>,
    leaf_key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates").finish_non_exhaustive()
    }
}

impl Certificates {
    /// Generates a fresh CA (ECDSA P-256) and a leaf of the given key type.
    pub fn generate(key_type: KeyType) -> Result<Self, rcgen::Error> {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "poolsweep mock-s3 CA");
        ca.distinguished_name = dn;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key)?;
        let issuer = Issuer::new(ca, ca_key);

        let leaf_key = match key_type {
            KeyType::Ecdsa => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
            KeyType::Rsa => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?
            }
        };
        let mut leaf = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "localhost");
        leaf.distinguished_name = dn;
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

        Ok(Self {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            leaf_der: leaf_cert.der().clone(),
            leaf_key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        })
    }

    /// The CA certificate as PEM: what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate as DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// The rustls server configuration: ALPN `http/1.1` only, resumption on.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, rustls::Error> {
        install_crypto_provider();
        let mut config = ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![self.leaf_der.clone()],
            PrivateKeyDer::Pkcs8(self.leaf_key.clone_key()),
        )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE_SIZE);
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_both_key_types() {
        for key_type in [KeyType::Ecdsa, KeyType::Rsa] {
            let certs = Certificates::generate(key_type).unwrap();
            assert!(certs.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
            let config = certs.server_config().unwrap();
            assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
        }
    }
}
