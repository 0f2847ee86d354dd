//! Which signals `run` passes on to its child, parsing signal names, and exit codes.

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use tokio::sync::mpsc;

/// The signals a container runtime or a terminal sends that the child must see. Nothing a
/// runtime uses internally (SIGCHLD, SIGPIPE, real-time signals) is in the list.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Signals after which, once the child is gone, `run` must stop rather than restart it.
pub fn is_stop_request(sig: Signal) -> bool {
    matches!(sig, Signal::SIGTERM | Signal::SIGINT | Signal::SIGQUIT)
}

/// Parse `SIGHUP`, `HUP`, `sighup` or a number.
pub fn parse(text: &str) -> Result<Signal, String> {
    let t = text.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("unknown signal number `{t}`"));
    }
    let upper = t.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| {
        format!("unknown signal `{t}`: use a name like SIGTERM, SIGHUP, SIGUSR1, or a number")
    })
}

/// Start listening for every [`FORWARDED`] signal; each arrival is sent on the channel.
/// Listening replaces the default action (terminate), so `run` survives to pass it on.
pub fn listen() -> std::io::Result<mpsc::UnboundedReceiver<Signal>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (tx, rx) = mpsc::unbounded_channel();
    for sig in FORWARDED {
        let mut stream = signal(SignalKind::from_raw(sig as i32))?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(sig).is_err() {
                    break;
                }
            }
        });
    }
    Ok(rx)
}

/// The shell's convention: the exit code, or 128 + the signal number when killed.
pub fn exit_code(status: &WaitStatus) -> u8 {
    match status {
        WaitStatus::Exited(_, code) => (*code & 0xff) as u8,
        WaitStatus::Signaled(_, sig, _) => (128 + (*sig as i32)).clamp(0, 255) as u8,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::Pid;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(parse("SIGHUP"), Ok(Signal::SIGHUP));
        assert_eq!(parse("hup"), Ok(Signal::SIGHUP));
        assert_eq!(parse("15"), Ok(Signal::SIGTERM));
        assert!(parse("SIGNOPE").is_err());
        assert!(parse("999").is_err());
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        let pid = Pid::from_raw(1);
        assert_eq!(exit_code(&WaitStatus::Exited(pid, 3)), 3);
        assert_eq!(
            exit_code(&WaitStatus::Signaled(pid, Signal::SIGKILL, false)),
            137
        );
        assert_eq!(
            exit_code(&WaitStatus::Signaled(pid, Signal::SIGTERM, true)),
            143
        );
    }
}
