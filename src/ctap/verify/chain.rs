//! Certificate path validation for attestation: each certificate in x5c is
//! signed by the next, intermediates are CAs, every certificate (the anchor
//! included) is valid at the check time, and the path ends at a trust anchor of the embedded FIDO
//! metadata (either an x5c certificate is an anchor, or an anchor signed the
//! last one). The anchor found is then compared with the anchors the
//! metadata lists for the AAGUID the key claims, which gives the
//! [`TrustLevel`].

use serde::Serialize;

use super::VerifyError;
use super::attestation::TrustLevel;
use super::authdata::Aaguid;
use super::metadata::Metadata;
use super::x509::{CertInfo, SignedBy};

/// The trust anchor a chain ended at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorSummary {
    /// The anchor's common name.
    pub name: String,
    /// Its maker id (`yubico`, `feitian`, …).
    pub maker: String,
    /// SHA-256 of its DER, lowercase hex.
    pub sha256: String,
    /// The metadata lists this very anchor for the key's AAGUID.
    pub listed_for_aaguid: bool,
}

/// What path validation concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChainVerdict {
    pub trust: TrustLevel,
    pub anchor: Option<AnchorSummary>,
    /// Why the chain does not count although it reached an anchor (expired,
    /// not a CA), or why no anchor could be reached.
    pub problem: Option<String>,
    /// Every signature along the path (to the anchor, when one was reached) verified.
    pub signatures_verified: bool,
}

fn date(secs: u64) -> String {
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Validates `certs` (leaf first) at `now` (Unix seconds) against the
/// anchors of `md`, for a key claiming `aaguid`. A certificate in x5c that
/// is not signed by the next one is an error (the statement is malformed).
pub(crate) fn evaluate(
    certs: &[CertInfo],
    aaguid: &Aaguid,
    md: &Metadata,
    now: u64,
) -> Result<ChainVerdict, VerifyError> {
    let anchors = md.parsed_anchors();
    let anchor_at = |c: &CertInfo| md.anchor_by_der(&c.der);

    // Where the path meets an anchor: the first x5c certificate that is one.
    let in_chain = certs
        .iter()
        .enumerate()
        .find_map(|(i, c)| anchor_at(c).map(|a| (i, a)));
    let path_end = in_chain.map_or(certs.len(), |(i, _)| i + 1);
    let path = certs.get(..path_end).unwrap_or(certs);

    let mut signatures_verified = true;
    let mut problem: Option<String> = None;
    for pair in path.windows(2) {
        if let [child, parent] = pair {
            signatures_verified &= child.verify_signed_by(parent)?;
            if !parent.is_ca {
                problem.get_or_insert(format!(
                    "\"{}\" signs another certificate but is not a CA",
                    parent.subject
                ));
            }
        }
    }
    for c in path {
        if anchor_at(c).is_some() {
            continue;
        }
        if now < c.not_before {
            problem.get_or_insert(format!(
                "\"{}\" is not valid before {}",
                c.subject,
                date(c.not_before)
            ));
        } else if !c.valid_at(now) {
            problem.get_or_insert(format!(
                "\"{}\" expired on {}",
                c.subject,
                date(c.not_after)
            ));
        }
    }

    let anchor = match in_chain {
        Some((_, a)) => Some(a),
        None => path.last().and_then(|top| {
            let mut unchecked = false;
            let found = anchors.iter().enumerate().find_map(|(i, a)| {
                let a = a.as_ref()?;
                if a.subject_name != top.issuer_name {
                    return None;
                }
                match top.signed_by_key(&a.key) {
                    SignedBy::Yes => Some(i),
                    SignedBy::Unchecked => {
                        unchecked = true;
                        None
                    }
                    SignedBy::No => None,
                }
            });
            if found.is_none() && unchecked {
                problem.get_or_insert(format!(
                    "the signature of \"{}\" uses an algorithm that is not checked",
                    top.subject
                ));
            }
            found
        }),
    };

    let Some(index) = anchor else {
        return Ok(ChainVerdict {
            trust: TrustLevel::UnknownIssuer,
            anchor: None,
            problem,
            signatures_verified,
        });
    };
    let Some(found) = md.anchors.get(index) else {
        return Err(VerifyError::BadCertificate(
            "anchor index out of range".into(),
        ));
    };
    // The anchor itself must be valid then too (a maker root can expire).
    if let Some(root) = anchors.get(index).and_then(Option::as_ref)
        && !root.valid_at(now)
    {
        problem.get_or_insert(if now < root.not_before {
            format!(
                "the root \"{}\" is not valid before {}",
                found.name,
                date(root.not_before)
            )
        } else {
            format!(
                "the root \"{}\" expired on {}",
                found.name,
                date(root.not_after)
            )
        });
    }
    let model = md.lookup(aaguid);
    let listed = model.is_some_and(|m| m.anchors.contains(&index));
    let trust = if problem.is_some() {
        TrustLevel::InvalidChain
    } else {
        match model {
            None => TrustLevel::KnownRoot,
            Some(_) if listed => TrustLevel::MakerRoot,
            Some(m) if md.anchors_of(m).any(|a| a.maker == found.maker) => TrustLevel::MakerRoot,
            Some(_) => TrustLevel::OtherMakerRoot,
        }
    };
    Ok(ChainVerdict {
        trust,
        anchor: Some(AnchorSummary {
            name: found.name.clone(),
            maker: found.maker.clone(),
            sha256: found.sha256.clone(),
            listed_for_aaguid: listed,
        }),
        problem,
        signatures_verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(2_524_608_000), "2050-01-01");
    }
}
