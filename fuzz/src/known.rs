//! Findings that are fixed on another branch, not here. While one is open, the targets step
//! around exactly the inputs that reach it, so a long run can look for the next bug; each
//! filter names its finding under fuzz/findings/ and goes when the fix is merged.
//!
//! None is open: the duration overflow (envfile-core's checked `duration::parse`), the template
//! engine's huge `range` (`envfile_template::limits`) and the dotenv trailing backslash (the
//! renderer writes it unquoted or refuses it) are all fixed in main, and their filters are gone.
