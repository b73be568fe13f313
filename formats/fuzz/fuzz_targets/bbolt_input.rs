//! The input format of the bbolt targets (`bbolt_reader`, `restore_path`): byte 0 is a mode, the
//! rest is the file. Mode bit 0 recomputes both meta checksums first, so the fuzzer can explore
//! meta fields without forging FNV-1a; the other bits are the target's own.

use revkeeper_formats::bbolt::meta::Meta;

/// The mode byte and the file of `input` (metas resealed when mode bit 0 is set); `None` when
/// the input is empty.
pub fn split(input: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (&mode, file) = input.split_first()?;
    let mut file = file.to_vec();
    if mode & 1 == 1 {
        reseal_metas(&mut file);
    }
    Some((mode, file))
}

/// Recomputes the checksum of meta 0 and of meta 1 (at meta 0's page size).
fn reseal_metas(file: &mut [u8]) {
    let reseal = |page: &mut [u8]| -> Option<u32> {
        let mut m = Meta::parse(page).ok()?;
        m.seal();
        page[16..80].copy_from_slice(&m.record());
        Some(m.page_size)
    };
    let Some(ps) = reseal(file) else { return };
    if let Some(page) = file.get_mut(ps as usize..) {
        reseal(page);
    }
}
