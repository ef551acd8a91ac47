//! The `none` attestation format: no statement, nothing to verify beyond an
//! empty `attStmt`.

use super::statement::Statement;
use super::{Context, Signed};
use crate::ctap::verify::VerifyError;

/// Checks that the statement is empty.
pub(super) fn verify(ctx: &Context<'_>) -> Result<Signed, VerifyError> {
    if !Statement::new(ctx.att_stmt)?.is_empty() {
        return Err(VerifyError::InvalidField {
            field: "attStmt",
            reason: "must be empty for format none",
        });
    }
    Ok(Signed::Nothing)
}
