//! Asking for a password on the terminal, with echo off — and only when there is a terminal:
//! cron jobs and pipelines never get a prompt.

use std::io::{BufRead, Write};

/// True when file descriptor `fd` is a terminal.
pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// Reads a password from the controlling terminal without echo. `None` when stdin is not a
/// terminal (the caller then fails with a message instead of hanging).
pub fn read_password(prompt: &str) -> Option<String> {
    if !is_tty(0) {
        return None;
    }
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    use std::os::fd::AsRawFd;
    let fd = tty.as_raw_fd();
    // SAFETY: plain termios calls on a descriptor we own; the old mode is restored below.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    let have_termios = unsafe { libc::tcgetattr(fd, &mut old) } == 0;
    if have_termios {
        let mut quiet = old;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut out = &tty;
    let _ = write!(out, "{prompt}");
    let _ = out.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    if have_termios {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
    }
    read.ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_string())
}
