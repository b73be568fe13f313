//! Names of etcd's top-level bbolt buckets (`docs/format-etcd.md#buckets`). All buckets are
//! top-level, none nests.

pub const KEY: &[u8] = b"key";
pub const META: &[u8] = b"meta";
pub const LEASE: &[u8] = b"lease";
pub const ALARM: &[u8] = b"alarm";
pub const CLUSTER: &[u8] = b"cluster";
pub const MEMBERS: &[u8] = b"members";
pub const MEMBERS_REMOVED: &[u8] = b"members_removed";
pub const AUTH: &[u8] = b"auth";
pub const AUTH_USERS: &[u8] = b"authUsers";
pub const AUTH_ROLES: &[u8] = b"authRoles";

/// Every bucket a fresh etcd 3.4–3.6 database has, in bbolt (byte) order.
pub const ALL: [&[u8]; 10] = [
    ALARM,
    AUTH,
    AUTH_ROLES,
    AUTH_USERS,
    CLUSTER,
    KEY,
    LEASE,
    MEMBERS,
    MEMBERS_REMOVED,
    META,
];

/// Value etcd stores under each key of `members_removed`.
pub const MEMBER_REMOVED_VALUE: &[u8] = b"removed";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_byte_order() {
        let mut sorted = ALL;
        sorted.sort();
        assert_eq!(sorted, ALL);
    }
}
