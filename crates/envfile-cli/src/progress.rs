//! A one-line progress counter on stderr (`check` over many env files, `import` over many
//! secrets), redrawn in place. Only when stderr is a terminal: in a pipe, a file, CloudWatch or
//! `kubectl logs` carriage returns are noise, so there it writes nothing. It shows counts only,
//! never a name or a value.

use std::io::{IsTerminal, Write};

/// Fewer steps than this finish before a counter could be read.
const MIN_STEPS: usize = 2;

/// The counter. Dropping it clears the line.
pub struct Progress<W: Write> {
    out: Option<W>,
    label: &'static str,
    unit: &'static str,
    total: usize,
    done: usize,
    drawn: bool,
}

impl Progress<std::io::Stderr> {
    /// A counter on stderr, drawn only when stderr is a terminal and there are several steps.
    pub fn stderr(label: &'static str, unit: &'static str, total: usize) -> Self {
        let stderr = std::io::stderr();
        let out = stderr.is_terminal().then_some(stderr);
        Progress::new(out, label, unit, total)
    }
}

impl<W: Write> Progress<W> {
    /// A counter writing to `out` (`None`: silent).
    pub fn new(out: Option<W>, label: &'static str, unit: &'static str, total: usize) -> Self {
        Progress {
            out: out.filter(|_| total >= MIN_STEPS),
            label,
            unit,
            total,
            done: 0,
            drawn: false,
        }
    }

    /// Draw the counter as it stands: before the first step (so a slow first step is visible
    /// too), or again after [`Progress::clear`].
    pub fn show(&mut self) {
        self.draw();
    }

    /// One more step done.
    pub fn step(&mut self) {
        self.done = (self.done + 1).min(self.total);
        self.draw();
    }

    /// Erase the line, so other output starts at column 0; the next `step` draws it again.
    pub fn clear(&mut self) {
        if let (Some(out), true) = (self.out.as_mut(), self.drawn) {
            // Progress output is best effort: a failed write must not fail the command.
            let _ = out.write_all(b"\r\x1b[2K").and_then(|()| out.flush());
            self.drawn = false;
        }
    }

    fn draw(&mut self) {
        if let Some(out) = self.out.as_mut() {
            let _ = write!(
                out,
                "\r\x1b[2K{}: {}/{} {}",
                self.label, self.done, self.total, self.unit
            )
            .and_then(|()| out.flush());
            self.drawn = true;
        }
    }
}

impl<W: Write> Drop for Progress<W> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn draws_counts_in_place_and_clears() {
        let mut buf = Vec::new();
        {
            let mut p = Progress::new(Some(&mut buf), "checking", "env files", 3);
            p.show();
            p.step();
            p.step();
            p.clear();
            p.step();
            p.step(); // past the total: stays at 3
        }
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "\r\x1b[2Kchecking: 0/3 env files\r\x1b[2Kchecking: 1/3 env files\
             \r\x1b[2Kchecking: 2/3 env files\r\x1b[2K\
             \r\x1b[2Kchecking: 3/3 env files\r\x1b[2Kchecking: 3/3 env files\r\x1b[2K"
        );
    }

    #[test]
    fn silent_without_a_terminal_or_with_one_step() {
        let mut buf = Vec::new();
        {
            let mut p = Progress::new(Some(&mut buf), "importing", "secrets", 1);
            p.show();
            p.step();
        }
        assert!(buf.is_empty());
        let mut p = Progress::<Vec<u8>>::new(None, "importing", "secrets", 50);
        p.show();
        p.step();
    }
}
