//! Reaping: `run` collects the exit status of its child and of every orphan handed to it.
//!
//! As PID 1 in a container, orphans are re-parented to us by the kernel; elsewhere we ask to be
//! a *child subreaper* so the same happens (and so tests can see it without being PID 1).
//! Either way an orphan that exits stays a `<defunct>` zombie until we wait for it.

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Ask the kernel to re-parent orphaned descendants to this process (Linux only; elsewhere a
/// no-op, and PID 1 gets them anyway).
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::debug!(error = %e, "could not become a child subreaper; orphans go to init");
    }
}

/// Wait for every child that has exited, without blocking. Returns the final statuses
/// (exited or killed) by pid; orphans are reaped the same way and simply not looked at.
pub fn reap_exited() -> Vec<(Pid, WaitStatus)> {
    let mut out = Vec::new();
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => break,
            Ok(status @ (WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _))) => {
                out.push((pid, status));
            }
            Ok(_) => continue, // stopped/continued: not an exit
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break, // ECHILD: no children left
        }
    }
    out
}
