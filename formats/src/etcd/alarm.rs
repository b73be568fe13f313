//! The `alarm` bucket (`docs/format-etcd.md#alarm-bucket`): the key is a marshaled
//! `etcdserverpb.AlarmMember` (proto3), the value is empty.

use prost::Message;

use super::error::SchemaError;

/// `etcdserverpb.AlarmType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlarmType {
    None,
    Nospace,
    Corrupt,
    /// A value this version does not know.
    Unknown(i32),
}

impl AlarmType {
    pub fn from_i32(v: i32) -> AlarmType {
        match v {
            0 => AlarmType::None,
            1 => AlarmType::Nospace,
            2 => AlarmType::Corrupt,
            other => AlarmType::Unknown(other),
        }
    }

    pub fn as_i32(self) -> i32 {
        match self {
            AlarmType::None => 0,
            AlarmType::Nospace => 1,
            AlarmType::Corrupt => 2,
            AlarmType::Unknown(v) => v,
        }
    }

    /// The name etcd prints (`NONE`, `NOSPACE`, `CORRUPT`), or the number.
    pub fn name(self) -> String {
        match self {
            AlarmType::None => "NONE".into(),
            AlarmType::Nospace => "NOSPACE".into(),
            AlarmType::Corrupt => "CORRUPT".into(),
            AlarmType::Unknown(v) => v.to_string(),
        }
    }
}

/// An active alarm: which member raised it, and what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlarmMember {
    pub member_id: u64,
    pub alarm: AlarmType,
}

#[derive(Clone, PartialEq, Message)]
struct AlarmMemberProto {
    #[prost(uint64, tag = "1")]
    member_id: u64,
    #[prost(int32, tag = "2")]
    alarm: i32,
}

impl AlarmMember {
    /// Decodes an `alarm` bucket key.
    pub fn from_key(key: &[u8]) -> Result<AlarmMember, SchemaError> {
        let m = AlarmMemberProto::decode(key)
            .map_err(|e| SchemaError::protobuf("etcdserverpb.AlarmMember", e))?;
        Ok(AlarmMember {
            member_id: m.member_id,
            alarm: AlarmType::from_i32(m.alarm),
        })
    }

    /// The `alarm` bucket key etcd writes for this alarm.
    pub fn to_key(&self) -> Vec<u8> {
        AlarmMemberProto {
            member_id: self.member_id,
            alarm: self.alarm.as_i32(),
        }
        .encode_to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nospace_alarm_round_trips() {
        let alarm = AlarmMember {
            member_id: 0x8e9e05c52164694d,
            alarm: AlarmType::Nospace,
        };
        let key = alarm.to_key();
        assert_eq!(key[0], 0x08);
        assert_eq!(&key[key.len() - 2..], &[0x10, 0x01]);
        assert_eq!(AlarmMember::from_key(&key).unwrap(), alarm);
        assert_eq!(alarm.alarm.name(), "NOSPACE");
    }

    #[test]
    fn unknown_types_are_kept() {
        let m = AlarmMember::from_key(&[0x08, 0x05, 0x10, 0x07]).unwrap();
        assert_eq!(m.member_id, 5);
        assert_eq!(m.alarm, AlarmType::Unknown(7));
        assert_eq!(m.alarm.name(), "7");
        assert_eq!(
            AlarmMember::from_key(&[0x08, 0x05]).unwrap().alarm,
            AlarmType::None
        );
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert!(AlarmMember::from_key(&[0x08]).is_err());
        assert!(AlarmMember::from_key(&[0x12, 0x04, 0x00]).is_err());
    }
}
