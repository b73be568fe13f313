//! Arbitrary bytes through every decoder of etcd's bucket values and files: revision keys,
//! KeyValue (prost and zero-copy, which must agree), leases, meta entries, members, alarms,
//! auth, cluster values, WAL segments and `.snap` files. None may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use revkeeper_formats::etcd::{
    alarm::AlarmMember, auth, cluster, kv::KeyValue, kv_ref::KeyValueRef, lease, members::Member,
    meta::MetaInfo, revision::RevisionKey, snap, wal,
};

fuzz_target!(|data: &[u8]| {
    let _ = RevisionKey::parse(data);
    match (KeyValue::decode_value(data), KeyValueRef::parse(data)) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.key, b.key);
            assert_eq!(a.value, b.value);
            assert_eq!(
                (a.create_revision, a.mod_revision, a.version, a.lease),
                (b.create_revision, b.mod_revision, b.version, b.lease)
            );
        }
        // The zero-copy parser is stricter only about wire types prost would also reject.
        (Err(_), _) | (_, Err(_)) => {}
    }
    let _ = lease::Lease::decode_value(data);
    let _ = lease::lease_id_from_key(data);
    let _ = Member::from_json(data);
    let _ = AlarmMember::from_key(data);
    let _ = auth::User::decode_value(data);
    let _ = auth::Role::decode_value(data);
    let _ = cluster::DowngradeInfo::from_json(data);
    let _ = wal::decode_records(data);
    let _ = wal::read_segment(data);
    let _ = snap::decode_snap_file(data);
    // A meta bucket: split the input into (key, value) pairs at 0xff bytes.
    let parts: Vec<&[u8]> = data.split(|b| *b == 0xff).collect();
    let pairs = parts.chunks(2).map(|c| (c[0], c.get(1).copied().unwrap_or(&[])));
    let _ = MetaInfo::from_entries(pairs);
});
