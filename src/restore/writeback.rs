//! The new db's file, handed to the disk while it is being written: every [`CHUNK`] written
//! front to back starts its writeback at once (`sync_file_range`, no wait), so the disk works
//! beside the cores instead of after them, and the final fsync finds only the last chunk dirty.
//! Without it the kernel starts writing back only past its dirty threshold (gigabytes on a big
//! machine), and a restore's fsync waited for nearly the whole db. Only a hint: the fsync is
//! what makes the file durable, and a kernel that refuses the call changes nothing.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::io::AsRawFd;

/// Bytes written between two writeback starts: large enough for big sequential disk writes.
const CHUNK: u64 = 32 << 20;

pub struct WritebackFile {
    file: File,
    /// Where the next write lands.
    pos: u64,
    /// Where the range not yet handed to the disk starts.
    pending_from: u64,
}

impl WritebackFile {
    pub fn new(file: File) -> WritebackFile {
        WritebackFile {
            file,
            pos: 0,
            pending_from: 0,
        }
    }

    pub fn into_inner(self) -> File {
        self.file
    }

    fn start_writeback(&mut self) {
        let (from, to) = (self.pending_from, self.pos);
        if to > from {
            // SAFETY: a plain syscall on a descriptor we own; it reads no memory of ours.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    from as libc::off64_t,
                    (to - from) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        self.pending_from = to;
    }
}

impl Write for WritebackFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.pos += n as u64;
        if self.pos >= self.pending_from + CHUNK {
            self.start_writeback();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Seek for WritebackFile {
    /// A seek (the metas, written last at the start) hands what was written to the disk first.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.start_writeback();
        self.pos = self.file.seek(to)?;
        self.pending_from = self.pos;
        Ok(self.pos)
    }
}
