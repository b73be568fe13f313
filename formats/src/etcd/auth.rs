//! The `auth`, `authUsers` and `authRoles` buckets (`docs/format-etcd.md#auth-buckets`).

use prost::Message;

use super::error::SchemaError;

/// `auth` bucket key: 1 byte, 0x01 when authentication is enabled.
pub const AUTH_ENABLED_KEY: &[u8] = b"authEnabled";
/// `auth` bucket key: u64 BE, bumped on every auth change.
pub const AUTH_REVISION_KEY: &[u8] = b"authRevision";

/// Reads the `authEnabled` value.
pub fn auth_enabled(value: &[u8]) -> Result<bool, SchemaError> {
    match value {
        [0] => Ok(false),
        [1] => Ok(true),
        other => Err(SchemaError::invalid(
            "auth/authEnabled",
            format!("{other:02x?}, want one byte 00 or 01"),
        )),
    }
}

/// Reads the `authRevision` value.
pub fn auth_revision(value: &[u8]) -> Result<u64, SchemaError> {
    let bytes: [u8; 8] = value.try_into().map_err(|_| {
        SchemaError::invalid(
            "auth/authRevision",
            format!("{} bytes, want 8", value.len()),
        )
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// `authpb.User`: an `authUsers` value (the key is the name).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct User {
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    /// bcrypt hash; empty for users without password.
    #[prost(bytes = "vec", tag = "2")]
    pub password: Vec<u8>,
    #[prost(string, repeated, tag = "3")]
    pub roles: Vec<String>,
    #[prost(message, optional, tag = "4")]
    pub options: Option<UserAddOptions>,
}

/// `authpb.UserAddOptions`.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct UserAddOptions {
    #[prost(bool, tag = "1")]
    pub no_password: bool,
}

/// `authpb.Role`: an `authRoles` value (the key is the name).
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Role {
    #[prost(bytes = "vec", tag = "1")]
    pub name: Vec<u8>,
    #[prost(message, repeated, tag = "2")]
    pub key_permission: Vec<Permission>,
}

/// `authpb.Permission`; `perm_type` is 0 READ, 1 WRITE, 2 READWRITE.
#[derive(Clone, PartialEq, Eq, Message)]
pub struct Permission {
    #[prost(int32, tag = "1")]
    pub perm_type: i32,
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub range_end: Vec<u8>,
}

impl User {
    /// Decodes an `authUsers` value.
    pub fn decode_value(bytes: &[u8]) -> Result<User, SchemaError> {
        User::decode(bytes).map_err(|e| SchemaError::protobuf("authpb.User", e))
    }
}

impl Role {
    /// Decodes an `authRoles` value.
    pub fn decode_value(bytes: &[u8]) -> Result<Role, SchemaError> {
        Role::decode(bytes).map_err(|e| SchemaError::protobuf("authpb.Role", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_bucket_values() {
        assert!(auth_enabled(&[1]).unwrap());
        assert!(!auth_enabled(&[0]).unwrap());
        assert!(auth_enabled(&[2]).is_err());
        assert!(auth_enabled(&[]).is_err());
        assert_eq!(auth_revision(&[0, 0, 0, 0, 0, 0, 0, 1]).unwrap(), 1);
        let err = auth_revision(&[1]).unwrap_err();
        assert!(err.to_string().contains("authRevision"), "{err}");
    }

    #[test]
    fn user_decodes_hand_encoded_bytes() {
        // name "root", password "h", roles ["root"], options{no_password: true}
        let bytes = b"\x0a\x04root\x12\x01h\x1a\x04root\x22\x02\x08\x01";
        let user = User::decode_value(bytes).unwrap();
        assert_eq!(user.name, b"root");
        assert_eq!(user.password, b"h");
        assert_eq!(user.roles, ["root"]);
        assert!(user.options.unwrap().no_password);
        assert!(User::decode_value(&bytes[..5]).is_err());
    }

    #[test]
    fn role_decodes_hand_encoded_bytes() {
        // name "r", one READWRITE permission on ["/a", "/b")
        let bytes = b"\x0a\x01r\x12\x0a\x08\x02\x12\x02/a\x1a\x02/b";
        let role = Role::decode_value(bytes).unwrap();
        assert_eq!(role.name, b"r");
        assert_eq!(role.key_permission.len(), 1);
        let p = &role.key_permission[0];
        assert_eq!(
            (p.perm_type, p.key.as_slice(), p.range_end.as_slice()),
            (2, &b"/a"[..], &b"/b"[..])
        );
        assert!(Role::decode_value(b"\x12\x05\x08").is_err());
    }
}
