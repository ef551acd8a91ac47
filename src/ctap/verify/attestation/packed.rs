//! The `packed` attestation format (WebAuthn §8.2): a signature over
//! authData || clientDataHash, either by an attestation certificate (x5c,
//! ES256) whose leaf follows WebAuthn's certificate rules, or by the
//! credential key itself (self attestation). ECDAA is not supported.

use super::statement::Statement;
use super::{Context, Signed};
use crate::ctap::verify::VerifyError;
use crate::ctap::verify::cose::ALG_ES256;
use crate::ctap::verify::x509::{self, CertInfo};

/// Verifies a packed statement.
pub(super) fn verify(ctx: &Context<'_>) -> Result<Signed, VerifyError> {
    let stmt = Statement::new(ctx.att_stmt)?;
    let alg = stmt.alg()?;
    let sig = stmt.bytes("sig")?;
    if stmt.has("ecdaaKeyId") {
        return Err(VerifyError::UnsupportedFormat("packed with ECDAA".into()));
    }
    let signed = ctx.signed_data();
    match stmt.x5c()? {
        Some(chain) => {
            if alg != ALG_ES256 {
                return Err(VerifyError::UnsupportedAlgorithm(alg));
            }
            let certs = chain
                .iter()
                .map(|der| x509::parse(der))
                .collect::<Result<Vec<_>, _>>()?;
            let leaf = certs.first().ok_or(VerifyError::MissingField("x5c"))?;
            check_leaf(leaf, ctx)?;
            let key = leaf.p256_key.as_ref().ok_or_else(|| {
                VerifyError::BadCertificate("attestation certificate key is not P-256".into())
            })?;
            key.verify(&signed, sig)
                .map_err(|_| VerifyError::AttestationSignatureInvalid)?;
            Ok(Signed::Certificates(certs))
        }
        None => {
            let key = ctx.credential.public_key()?;
            if alg != key.alg() {
                return Err(VerifyError::AlgorithmMismatch {
                    statement: alg,
                    key: key.alg(),
                });
            }
            key.verify(&signed, sig)
                .map_err(|_| VerifyError::AttestationSignatureInvalid)?;
            Ok(Signed::SelfAttested)
        }
    }
}

/// WebAuthn §8.2.1: version 3, not a CA, AAGUID extension (when present)
/// not critical and equal to the authenticator data's AAGUID.
fn check_leaf(leaf: &CertInfo, ctx: &Context<'_>) -> Result<(), VerifyError> {
    if !leaf.is_v3 {
        return Err(VerifyError::BadCertificate(
            "attestation certificate is not X.509 version 3".into(),
        ));
    }
    if leaf.is_ca {
        return Err(VerifyError::BadCertificate(
            "attestation certificate is a CA (basicConstraints cA=true)".into(),
        ));
    }
    if let Some(cert_aaguid) = leaf.aaguid {
        if leaf.aaguid_critical {
            return Err(VerifyError::BadCertificate(
                "AAGUID extension is marked critical".into(),
            ));
        }
        if cert_aaguid != ctx.credential.aaguid {
            return Err(VerifyError::AaguidMismatch {
                certificate: cert_aaguid,
                auth_data: ctx.credential.aaguid,
            });
        }
    }
    Ok(())
}
