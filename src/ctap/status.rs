//! Status codes: the one-byte CTAP status that starts every CTAP2 response
//! ([`CtapStatus`]) and the code carried by a CTAPHID ERROR frame
//! ([`HidErrorCode`]). Names follow the CTAP 2.1 specification ("Error
//! responses" and "CTAPHID_ERROR"); codes renamed in 2.1 use the 2.1 name.

use std::fmt;

macro_rules! ctap_status {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal => $name:literal, )*) => {
        /// A CTAP status byte.
        ///
        /// Every defined code has its own variant; anything else is kept in
        /// [`CtapStatus::Extension`] (0xE0–0xEF), [`CtapStatus::Vendor`]
        /// (0xF0–0xFF) or [`CtapStatus::Unknown`], so no byte is ever lost.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum CtapStatus {
            $( $(#[$doc])* $variant, )*
            /// Extension-specific error (0xE0–0xEF).
            Extension(u8),
            /// Vendor-specific error (0xF0–0xFF).
            Vendor(u8),
            /// A code the specification does not define.
            Unknown(u8),
        }

        impl CtapStatus {
            /// Every named (non-range) status, in code order.
            pub const NAMED: &'static [CtapStatus] = &[ $( CtapStatus::$variant, )* ];

            /// Classifies a status byte; never fails.
            pub fn from_u8(code: u8) -> Self {
                match code {
                    $( $code => CtapStatus::$variant, )*
                    0xE0..=0xEF => CtapStatus::Extension(code),
                    0xF0..=0xFF => CtapStatus::Vendor(code),
                    other => CtapStatus::Unknown(other),
                }
            }

            /// The byte on the wire.
            pub fn code(self) -> u8 {
                match self {
                    $( CtapStatus::$variant => $code, )*
                    CtapStatus::Extension(c) | CtapStatus::Vendor(c) | CtapStatus::Unknown(c) => c,
                }
            }

            /// The specification's name, e.g. `CTAP2_ERR_PIN_INVALID`.
            pub fn name(self) -> &'static str {
                match self {
                    $( CtapStatus::$variant => $name, )*
                    CtapStatus::Extension(_) => "CTAP2_ERR_EXTENSION",
                    CtapStatus::Vendor(_) => "CTAP2_ERR_VENDOR",
                    CtapStatus::Unknown(_) => "UNKNOWN",
                }
            }
        }
    };
}

ctap_status! {
    /// Success (`CTAP1_ERR_SUCCESS` / `CTAP2_OK`).
    Ok = 0x00 => "CTAP2_OK",
    /// The command is not a valid CTAP command.
    InvalidCommand = 0x01 => "CTAP1_ERR_INVALID_COMMAND",
    /// The command included an invalid parameter.
    InvalidParameter = 0x02 => "CTAP1_ERR_INVALID_PARAMETER",
    /// Invalid message or item length.
    InvalidLength = 0x03 => "CTAP1_ERR_INVALID_LENGTH",
    /// Invalid message sequencing.
    InvalidSeq = 0x04 => "CTAP1_ERR_INVALID_SEQ",
    /// Message timed out.
    Timeout = 0x05 => "CTAP1_ERR_TIMEOUT",
    /// Channel busy.
    ChannelBusy = 0x06 => "CTAP1_ERR_CHANNEL_BUSY",
    /// Command requires channel lock.
    LockRequired = 0x0A => "CTAP1_ERR_LOCK_REQUIRED",
    /// Command not allowed on this channel.
    InvalidChannel = 0x0B => "CTAP1_ERR_INVALID_CHANNEL",
    /// Invalid or unexpected CBOR type.
    CborUnexpectedType = 0x11 => "CTAP2_ERR_CBOR_UNEXPECTED_TYPE",
    /// Error when parsing CBOR.
    InvalidCbor = 0x12 => "CTAP2_ERR_INVALID_CBOR",
    /// Missing non-optional parameter.
    MissingParameter = 0x14 => "CTAP2_ERR_MISSING_PARAMETER",
    /// Limit for number of items exceeded.
    LimitExceeded = 0x15 => "CTAP2_ERR_LIMIT_EXCEEDED",
    /// Unsupported extension (CTAP 2.0).
    UnsupportedExtension = 0x16 => "CTAP2_ERR_UNSUPPORTED_EXTENSION",
    /// Fingerprint database is full.
    FpDatabaseFull = 0x17 => "CTAP2_ERR_FP_DATABASE_FULL",
    /// Large blob storage is full.
    LargeBlobStorageFull = 0x18 => "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL",
    /// A credential in the exclude list is on this authenticator.
    CredentialExcluded = 0x19 => "CTAP2_ERR_CREDENTIAL_EXCLUDED",
    /// Processing (lengthy operation in progress).
    Processing = 0x21 => "CTAP2_ERR_PROCESSING",
    /// Credential not valid for this authenticator.
    InvalidCredential = 0x22 => "CTAP2_ERR_INVALID_CREDENTIAL",
    /// Authentication is waiting for user interaction.
    UserActionPending = 0x23 => "CTAP2_ERR_USER_ACTION_PENDING",
    /// Processing, lengthy operation in progress.
    OperationPending = 0x24 => "CTAP2_ERR_OPERATION_PENDING",
    /// No request is pending.
    NoOperations = 0x25 => "CTAP2_ERR_NO_OPERATIONS",
    /// The requested algorithm is not supported.
    UnsupportedAlgorithm = 0x26 => "CTAP2_ERR_UNSUPPORTED_ALGORITHM",
    /// Not authorised for the requested operation.
    OperationDenied = 0x27 => "CTAP2_ERR_OPERATION_DENIED",
    /// Internal key storage is full.
    KeyStoreFull = 0x28 => "CTAP2_ERR_KEY_STORE_FULL",
    /// Cannot cancel: not busy (CTAP 2.0).
    NotBusy = 0x29 => "CTAP2_ERR_NOT_BUSY",
    /// No outstanding operation (CTAP 2.0).
    NoOperationPending = 0x2A => "CTAP2_ERR_NO_OPERATION_PENDING",
    /// Unsupported option.
    UnsupportedOption = 0x2B => "CTAP2_ERR_UNSUPPORTED_OPTION",
    /// Not a valid option for the current operation.
    InvalidOption = 0x2C => "CTAP2_ERR_INVALID_OPTION",
    /// Pending keep-alive was cancelled.
    KeepaliveCancel = 0x2D => "CTAP2_ERR_KEEPALIVE_CANCEL",
    /// No valid credentials provided.
    NoCredentials = 0x2E => "CTAP2_ERR_NO_CREDENTIALS",
    /// Timed out waiting for user interaction.
    UserActionTimeout = 0x2F => "CTAP2_ERR_USER_ACTION_TIMEOUT",
    /// Continuation command not allowed.
    NotAllowed = 0x30 => "CTAP2_ERR_NOT_ALLOWED",
    /// PIN invalid.
    PinInvalid = 0x31 => "CTAP2_ERR_PIN_INVALID",
    /// PIN blocked.
    PinBlocked = 0x32 => "CTAP2_ERR_PIN_BLOCKED",
    /// PIN authentication (pinUvAuthParam) verification failed.
    PinAuthInvalid = 0x33 => "CTAP2_ERR_PIN_AUTH_INVALID",
    /// PIN authentication blocked until power cycle.
    PinAuthBlocked = 0x34 => "CTAP2_ERR_PIN_AUTH_BLOCKED",
    /// No PIN has been set.
    PinNotSet = 0x35 => "CTAP2_ERR_PIN_NOT_SET",
    /// A pinUvAuthToken is required (CTAP 2.0 name: `CTAP2_ERR_PIN_REQUIRED`).
    PuatRequired = 0x36 => "CTAP2_ERR_PUAT_REQUIRED",
    /// PIN policy violation.
    PinPolicyViolation = 0x37 => "CTAP2_ERR_PIN_POLICY_VIOLATION",
    /// PIN token expired (CTAP 2.0; reserved in 2.1).
    PinTokenExpired = 0x38 => "CTAP2_ERR_PIN_TOKEN_EXPIRED",
    /// Request too large for the authenticator.
    RequestTooLarge = 0x39 => "CTAP2_ERR_REQUEST_TOO_LARGE",
    /// The current operation timed out.
    ActionTimeout = 0x3A => "CTAP2_ERR_ACTION_TIMEOUT",
    /// User presence is required.
    UpRequired = 0x3B => "CTAP2_ERR_UP_REQUIRED",
    /// Built-in user verification is blocked.
    UvBlocked = 0x3C => "CTAP2_ERR_UV_BLOCKED",
    /// A checksum did not match.
    IntegrityFailure = 0x3D => "CTAP2_ERR_INTEGRITY_FAILURE",
    /// The subcommand is invalid.
    InvalidSubcommand = 0x3E => "CTAP2_ERR_INVALID_SUBCOMMAND",
    /// Built-in user verification failed (no match).
    UvInvalid = 0x3F => "CTAP2_ERR_UV_INVALID",
    /// The token lacks the permission for this command.
    UnauthorizedPermission = 0x40 => "CTAP2_ERR_UNAUTHORIZED_PERMISSION",
    /// Other unspecified error.
    Other = 0x7F => "CTAP1_ERR_OTHER",
    /// Marks the end of the specification's range.
    SpecLast = 0xDF => "CTAP2_ERR_SPEC_LAST",
}

impl CtapStatus {
    /// True for [`CtapStatus::Ok`].
    pub fn is_ok(self) -> bool {
        self == CtapStatus::Ok
    }
}

impl From<u8> for CtapStatus {
    fn from(code: u8) -> Self {
        CtapStatus::from_u8(code)
    }
}

impl From<CtapStatus> for u8 {
    fn from(s: CtapStatus) -> u8 {
        s.code()
    }
}

impl fmt::Display for CtapStatus {
    /// `CTAP2_ERR_PIN_INVALID (0x31)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), self.code())
    }
}

/// Serialises a code as `{"code": N, "name": "..."}`.
fn serialize_code<S: serde::Serializer>(s: S, code: u8, name: &str) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Status", 2)?;
    st.serialize_field("code", &code)?;
    st.serialize_field("name", name)?;
    st.end()
}

impl serde::Serialize for CtapStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_code(s, self.code(), self.name())
    }
}

impl serde::Serialize for HidErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_code(s, self.code(), self.name())
    }
}

/// The code in a CTAPHID ERROR (0x3F) frame: a transport-level failure,
/// distinct from the CTAP status of a completed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HidErrorCode {
    /// 0x01: the command in the request is invalid.
    InvalidCmd,
    /// 0x02: the parameters in the request are invalid.
    InvalidPar,
    /// 0x03: the length field (BCNT) is invalid.
    InvalidLen,
    /// 0x04: a continuation packet had the wrong sequence number.
    InvalidSeq,
    /// 0x05: the message was not completed in time.
    MsgTimeout,
    /// 0x06: the device is busy with another channel.
    ChannelBusy,
    /// 0x0A: the command requires a channel lock.
    LockRequired,
    /// 0x0B: the channel identifier is not valid.
    InvalidChannel,
    /// 0x7F: unspecified error.
    Other,
    /// Any other code.
    Unknown(u8),
}

impl HidErrorCode {
    /// Classifies an ERROR frame's code byte; never fails.
    pub fn from_u8(code: u8) -> Self {
        match code {
            0x01 => HidErrorCode::InvalidCmd,
            0x02 => HidErrorCode::InvalidPar,
            0x03 => HidErrorCode::InvalidLen,
            0x04 => HidErrorCode::InvalidSeq,
            0x05 => HidErrorCode::MsgTimeout,
            0x06 => HidErrorCode::ChannelBusy,
            0x0A => HidErrorCode::LockRequired,
            0x0B => HidErrorCode::InvalidChannel,
            0x7F => HidErrorCode::Other,
            other => HidErrorCode::Unknown(other),
        }
    }

    /// The byte on the wire.
    pub fn code(self) -> u8 {
        match self {
            HidErrorCode::InvalidCmd => 0x01,
            HidErrorCode::InvalidPar => 0x02,
            HidErrorCode::InvalidLen => 0x03,
            HidErrorCode::InvalidSeq => 0x04,
            HidErrorCode::MsgTimeout => 0x05,
            HidErrorCode::ChannelBusy => 0x06,
            HidErrorCode::LockRequired => 0x0A,
            HidErrorCode::InvalidChannel => 0x0B,
            HidErrorCode::Other => 0x7F,
            HidErrorCode::Unknown(c) => c,
        }
    }

    /// The specification's name, e.g. `ERR_INVALID_CHANNEL`.
    pub fn name(self) -> &'static str {
        match self {
            HidErrorCode::InvalidCmd => "ERR_INVALID_CMD",
            HidErrorCode::InvalidPar => "ERR_INVALID_PAR",
            HidErrorCode::InvalidLen => "ERR_INVALID_LEN",
            HidErrorCode::InvalidSeq => "ERR_INVALID_SEQ",
            HidErrorCode::MsgTimeout => "ERR_MSG_TIMEOUT",
            HidErrorCode::ChannelBusy => "ERR_CHANNEL_BUSY",
            HidErrorCode::LockRequired => "ERR_LOCK_REQUIRED",
            HidErrorCode::InvalidChannel => "ERR_INVALID_CHANNEL",
            HidErrorCode::Other => "ERR_OTHER",
            HidErrorCode::Unknown(_) => "ERR_UNKNOWN",
        }
    }
}

impl From<HidErrorCode> for u8 {
    fn from(c: HidErrorCode) -> u8 {
        c.code()
    }
}

impl fmt::Display for HidErrorCode {
    /// `ERR_INVALID_CHANNEL (0x0B)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:02X})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=u8::MAX {
            assert_eq!(CtapStatus::from_u8(b).code(), b, "ctap 0x{b:02X}");
            assert_eq!(HidErrorCode::from_u8(b).code(), b, "hid 0x{b:02X}");
        }
    }

    #[test]
    fn named_codes_match_the_spec_table() {
        let expect: &[(u8, &str)] = &[
            (0x00, "CTAP2_OK"),
            (0x01, "CTAP1_ERR_INVALID_COMMAND"),
            (0x0B, "CTAP1_ERR_INVALID_CHANNEL"),
            (0x12, "CTAP2_ERR_INVALID_CBOR"),
            (0x19, "CTAP2_ERR_CREDENTIAL_EXCLUDED"),
            (0x28, "CTAP2_ERR_KEY_STORE_FULL"),
            (0x2D, "CTAP2_ERR_KEEPALIVE_CANCEL"),
            (0x2E, "CTAP2_ERR_NO_CREDENTIALS"),
            (0x31, "CTAP2_ERR_PIN_INVALID"),
            (0x32, "CTAP2_ERR_PIN_BLOCKED"),
            (0x34, "CTAP2_ERR_PIN_AUTH_BLOCKED"),
            (0x35, "CTAP2_ERR_PIN_NOT_SET"),
            (0x36, "CTAP2_ERR_PUAT_REQUIRED"),
            (0x3C, "CTAP2_ERR_UV_BLOCKED"),
            (0x40, "CTAP2_ERR_UNAUTHORIZED_PERMISSION"),
            (0x7F, "CTAP1_ERR_OTHER"),
            (0xDF, "CTAP2_ERR_SPEC_LAST"),
        ];
        for &(code, name) in expect {
            assert_eq!(CtapStatus::from_u8(code).name(), name, "0x{code:02X}");
        }
    }

    #[test]
    fn ranges_and_unknowns_are_kept() {
        assert_eq!(CtapStatus::from_u8(0xE3), CtapStatus::Extension(0xE3));
        assert_eq!(CtapStatus::from_u8(0xEF), CtapStatus::Extension(0xEF));
        assert_eq!(CtapStatus::from_u8(0xF0), CtapStatus::Vendor(0xF0));
        assert_eq!(CtapStatus::from_u8(0xFF), CtapStatus::Vendor(0xFF));
        assert_eq!(CtapStatus::from_u8(0x07), CtapStatus::Unknown(0x07));
        assert_eq!(CtapStatus::from_u8(0x41), CtapStatus::Unknown(0x41));
        assert_eq!(HidErrorCode::from_u8(0x33), HidErrorCode::Unknown(0x33));
    }

    #[test]
    fn named_list_has_unique_codes_and_names() {
        let mut codes: Vec<u8> = CtapStatus::NAMED.iter().map(|s| s.code()).collect();
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n);
        let mut names: Vec<&str> = CtapStatus::NAMED.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n);
        for s in CtapStatus::NAMED {
            assert_eq!(CtapStatus::from_u8(s.code()), *s);
        }
    }

    #[test]
    fn display_shows_name_and_hex() {
        assert_eq!(
            CtapStatus::PinInvalid.to_string(),
            "CTAP2_ERR_PIN_INVALID (0x31)"
        );
        assert_eq!(
            CtapStatus::Vendor(0xF2).to_string(),
            "CTAP2_ERR_VENDOR (0xF2)"
        );
        assert_eq!(
            HidErrorCode::InvalidChannel.to_string(),
            "ERR_INVALID_CHANNEL (0x0B)"
        );
        assert!(CtapStatus::Ok.is_ok());
        assert!(!CtapStatus::Other.is_ok());
    }

    #[test]
    fn serializes_code_and_name() {
        assert_eq!(
            serde_json::to_string(&CtapStatus::PinBlocked).unwrap(),
            r#"{"code":50,"name":"CTAP2_ERR_PIN_BLOCKED"}"#
        );
        assert_eq!(
            serde_json::to_string(&HidErrorCode::Other).unwrap(),
            r#"{"code":127,"name":"ERR_OTHER"}"#
        );
    }
}
