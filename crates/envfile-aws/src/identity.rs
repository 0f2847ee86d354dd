//! One canonical identity per secret, whatever spelling names it: a name, a full ARN, a partial
//! ARN (the full ARN less its `-XXXXXX` suffix), an ECS `valueFrom`. Grants are compared on it.
//!
//! The identity is `ACCOUNT/REGION/NAME`, with `~` for the account the backend's credentials
//! belong to (a bare name always resolves there), so a name and an ARN of our own account meet,
//! while another account's or region's secret of the same name stays apart. Names come last, so
//! a grant prefix (`app/*`) is an identity prefix too.
//!
//! The one spelling that cannot be read syntactically is an ARN ending in `-` and six
//! characters: the full ARN of `prod/db` (suffix `master`) or the partial ARN of
//! `prod/db-master`? AWS documents that it takes such an ARN as a *full* ARN; moto takes it as
//! a partial one. So we take it as full unless we have already seen what the backend answers
//! for it (every read records the ARN and Name AWS returned), or we know a secret whose name is
//! the whole tail. Either way the route re-checks the identity of what the backend actually
//! returned ([`envfile_core::SecretMeta::identity`]), so a wrong guess can refuse but never
//! serve an ungranted secret. No identity costs a backend call, except, once per backend, the
//! account id when an ARN must be compared before any read by name revealed it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// How many learned spellings are kept (a bound on what hostile clients can make us remember).
const MAX_LEARNED: usize = 4096;

/// The parts of a Secrets Manager ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretArn<'a> {
    /// Region.
    pub region: &'a str,
    /// Account id.
    pub account: &'a str,
    /// Everything after `:secret:` (a name, or a name with the `-XXXXXX` suffix).
    pub tail: &'a str,
}

/// Split `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:TAIL` (an ECS `valueFrom`'s
/// `:json-key:stage:version` after the tail is ignored: it selects within the secret).
pub fn parse_secret_arn(s: &str) -> Option<SecretArn<'_>> {
    let mut f = s.strip_prefix("arn:")?.split(':');
    let _partition = f.next()?;
    (f.next()? == "secretsmanager").then_some(())?;
    let region = f.next()?;
    let account = f.next()?;
    (f.next()? == "secret").then_some(())?;
    let tail = f.next().filter(|t| !t.is_empty())?;
    Some(SecretArn {
        region,
        account,
        tail,
    })
}

/// The tail without a `-XXXXXX` suffix, when it has one (six ASCII letters or digits).
pub fn strip_suffix(tail: &str) -> Option<&str> {
    let (name, suffix) = tail.rsplit_once('-')?;
    (suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) && !name.is_empty())
        .then_some(name)
}

/// What the backend learned from its own reads.
#[derive(Debug, Default)]
pub struct Learned {
    /// The credentials' account id: from the first ARN a read *by name* returned, or STS.
    home: OnceLock<String>,
    inner: Mutex<Known>,
}

/// A secret as (account, region, name): kept in parts, because whether the account is ours
/// may be learned only later. Shared (`Arc`) by both tables below: at fleet scale each secret
/// is in both, and whole copies in each table slot cost more than a megabyte per 5,000 secrets.
type Parts = Arc<(String, String, String)>;

#[derive(Debug, Default)]
struct Known {
    /// Requested ARN spelling → the secret AWS answered with.
    by_spelling: HashMap<Box<str>, Parts>,
    /// Secrets read.
    names: HashSet<Parts>,
}

impl Learned {
    /// The home account, if known.
    pub fn home(&self) -> Option<&str> {
        self.home.get().map(String::as_str)
    }

    /// Set the home account (first writer wins; it cannot change for one set of credentials).
    pub fn set_home(&self, account: &str) {
        if !account.is_empty() {
            let _ = self.home.set(account.to_owned());
        }
    }

    /// The identity of `account/region/name` (the account as `~` when it is ours).
    pub fn ident(&self, account: &str, region: &str, name: &str) -> String {
        let acct = if Some(account) == self.home() {
            "~"
        } else {
            account
        };
        format!("{acct}/{region}/{name}")
    }

    /// The identity of a bare name read in `region`.
    pub fn name_ident(region: &str, name: &str) -> String {
        format!("~/{region}/{name}")
    }

    /// The identity of an ARN spelling (the home account must be known for ours to be `~`).
    pub fn arn_ident(&self, spelling: &str, arn: &SecretArn<'_>) -> String {
        let k = lock(&self.inner);
        if let Some(parts) = k.by_spelling.get(spelling) {
            let (a, r, n) = &**parts;
            return self.ident(a, r, n);
        }
        let whole = (
            arn.account.to_owned(),
            arn.region.to_owned(),
            arn.tail.to_owned(),
        );
        let name = match strip_suffix(arn.tail) {
            Some(_) if k.names.contains(&whole) => arn.tail,
            Some(n) => n,
            None => arn.tail,
        };
        self.ident(arn.account, arn.region, name)
    }

    /// Record a read: `asked` (a name or ARN) answered by the secret `arn` named `name`.
    /// Returns the answered secret's identity, when the home account is known (before that,
    /// an ARN of our own account cannot be told from another account's).
    pub fn record(&self, asked: &str, arn: Option<&str>, name: Option<&str>) -> Option<String> {
        let parsed = arn.and_then(parse_secret_arn)?;
        if !asked.starts_with("arn:") {
            // A name resolves in the credentials' own account.
            self.set_home(parsed.account);
        }
        let name = name
            .map(str::to_owned)
            .or_else(|| strip_suffix(parsed.tail).map(str::to_owned))?;
        let parts = Arc::new((
            parsed.account.to_owned(),
            parsed.region.to_owned(),
            name.clone(),
        ));
        {
            let mut k = lock(&self.inner);
            if k.by_spelling.len() >= MAX_LEARNED {
                k.by_spelling.clear();
                k.names.clear();
            }
            if asked.starts_with("arn:") {
                k.by_spelling.insert(asked.into(), parts.clone());
            }
            if let Some(full) = arn {
                k.by_spelling.insert(full.into(), parts.clone());
            }
            k.names.insert(parts);
        }
        self.home()
            .map(|_| self.ident(parsed.account, parsed.region, &name))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbC123";
    const PARTIAL: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db";
    const AMBIG: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-master";

    fn learned() -> Learned {
        let l = Learned::default();
        l.set_home("123456789012");
        l
    }

    fn id(l: &Learned, s: &str) -> String {
        l.arn_ident(s, &parse_secret_arn(s).unwrap())
    }

    #[test]
    fn arns_parse_and_suffixes_strip() {
        let a = parse_secret_arn(FULL).unwrap();
        assert_eq!(
            (a.region, a.account, a.tail),
            ("us-east-1", "123456789012", "prod/db-AbC123")
        );
        assert!(parse_secret_arn("arn:aws:ssm:us-east-1:1:parameter/x").is_none());
        assert!(parse_secret_arn("prod/db").is_none());
        assert_eq!(strip_suffix("prod/db-AbC123"), Some("prod/db"));
        assert_eq!(strip_suffix("prod/db"), None);
        assert_eq!(strip_suffix("prod/db-AbC12"), None);
        assert_eq!(strip_suffix("-AbC123"), None);
    }

    #[test]
    fn name_full_and_partial_arn_share_one_identity() {
        let l = learned();
        let want = Learned::name_ident("us-east-1", "prod/db");
        assert_eq!(id(&l, FULL), want);
        assert_eq!(id(&l, PARTIAL), want);
        // Another account's or region's secret of the same name is another secret.
        assert_ne!(id(&l, &FULL.replace("123456789012", "999999999999")), want);
        assert_ne!(id(&l, &FULL.replace("us-east-1", "eu-west-1")), want);
        // A longer name is not a prefix match of a shorter one.
        assert_ne!(id(&l, &format!("{PARTIAL}-2")), want);
    }

    #[test]
    fn an_ambiguous_arn_follows_what_the_backend_answered() {
        let l = learned();
        // Unknown: taken as AWS takes it, a full ARN of `prod/db`.
        assert_eq!(id(&l, AMBIG), Learned::name_ident("us-east-1", "prod/db"));
        // The backend answered it with `prod/db-master` (moto resolves partial ARNs so).
        let got = l.record(
            AMBIG,
            Some(&format!("{AMBIG}-XyZ789")),
            Some("prod/db-master"),
        );
        let master = Learned::name_ident("us-east-1", "prod/db-master");
        assert_eq!(got.as_deref(), Some(master.as_str()));
        assert_eq!(id(&l, AMBIG), master);
        // A known name that is the whole tail also decides it.
        let l = learned();
        l.record(
            "prod/db-master",
            Some(&format!("{AMBIG}-XyZ789")),
            Some("prod/db-master"),
        );
        assert_eq!(id(&l, AMBIG), master);
    }

    #[test]
    fn the_home_account_is_learned_from_reads_by_name_only() {
        let l = Learned::default();
        assert_eq!(l.record(FULL, Some(FULL), Some("prod/db")), None);
        assert_eq!(l.home(), None, "an ARN may name another account");
        l.record("prod/db", Some(FULL), Some("prod/db"));
        assert_eq!(l.home(), Some("123456789012"));
        // What was learned before the account was known is ours now.
        assert_eq!(id(&l, FULL), Learned::name_ident("us-east-1", "prod/db"));
    }
}
