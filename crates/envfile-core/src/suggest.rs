//! "Did you mean …?" for key names.
//!
//! Plain edit distance misses the mistakes people actually make with secret keys: `dbname` vs
//! `database` is 5 edits apart, yet obviously meant. So candidates are matched, in order of
//! confidence, by: the same name once case and `_`/`-`/`.` are ignored; the same *concept*
//! through a small table of abbreviations and synonyms common in credentials; one name
//! containing the other; and finally a normalized edit distance within a third of the length.

/// Concept groups: names in one group mean the same thing. Entries are normalized
/// (lowercase, no separators).
const SYNONYMS: &[&[&str]] = &[
    &["database", "db", "dbname", "databasename", "dbnm", "schema"],
    &["password", "pwd", "pass", "passwd", "pw", "passphrase"],
    &[
        "username", "user", "usr", "login", "uname", "userid", "dbuser",
    ],
    &[
        "host", "hostname", "server", "addr", "address", "endpoint", "dbhost",
    ],
    &["port", "portnumber", "dbport"],
    &[
        "url",
        "uri",
        "dsn",
        "connectionstring",
        "connstr",
        "connectionurl",
        "databaseurl",
    ],
    &["token", "apitoken", "accesstoken", "authtoken"],
    &["apikey", "key", "accesskey", "secretkey"],
    &["clientid", "appid", "applicationid"],
    &["clientsecret", "appsecret", "applicationsecret"],
];

/// Lowercase and drop separators, so `DB_NAME`, `db-name` and `dbName` compare equal.
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn concept(normalized: &str) -> Option<usize> {
    SYNONYMS.iter().position(|g| g.contains(&normalized))
}

/// Edit distance counting an adjacent swap as one edit (optimal string alignment):
/// `prot` for `port` is one slip of the fingers, not two.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// How close `candidate` is to `wanted`; lower is closer, `None` is "not a plausible typo".
fn score(wanted: &str, candidate: &str) -> Option<usize> {
    let (w, c) = (normalize(wanted), normalize(candidate));
    if w.is_empty() || c.is_empty() {
        return None;
    }
    if w == c {
        return Some(0);
    }
    if let (Some(a), Some(b)) = (concept(&w), concept(&c)) {
        if a == b {
            return Some(1);
        }
    }
    // Containment only counts when the shorter side is a real word, not `a` inside `password`.
    let shorter = w.len().min(c.len());
    if shorter >= 3 && (w.contains(&c) || c.contains(&w)) {
        return Some(2);
    }
    let dist = edit_distance(&w, &c);
    let limit = (w.chars().count() / 3).max(1);
    (dist <= limit).then_some(2 + dist)
}

/// The candidates `wanted` was plausibly meant to be, best first (at most three).
pub(crate) fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .filter_map(|c| score(wanted, c).map(|s| (s, c)))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_owned())
        .collect()
}

/// `did you mean `a`?` / `did you mean `a` or `b`?`, or `None` when nothing is close.
pub(crate) fn did_you_mean_phrase<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let found = did_you_mean(wanted, candidates);
    if found.is_empty() {
        return None;
    }
    let quoted: Vec<String> = found.iter().map(|c| format!("`{c}`")).collect();
    let mut phrase = format!("did you mean {}?", quoted.join(" or "));
    if let [only] = found.as_slice() {
        // The reference may be right and the secret misnamed (the runbook's `dbname` vs
        // `database`): say both ways out.
        phrase.push_str(&format!(
            " (or, if `{wanted}` is the right name, rename the secret's key `{only}` to `{wanted}`)"
        ));
    }
    Some(phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "database",
        "host",
        "password",
        "port",
        "username",
        "engine",
        "api_key",
        "DATABASE_URL",
    ];

    fn first(wanted: &str) -> Option<String> {
        did_you_mean(wanted, KEYS.iter().copied())
            .into_iter()
            .next()
    }

    #[test]
    fn suggestion_table() {
        let table: &[(&str, Option<&str>)] = &[
            ("dbname", Some("database")),
            ("db", Some("database")),
            ("DB_NAME", Some("database")),
            ("pwd", Some("password")),
            ("pass", Some("password")),
            ("passwrd", Some("password")),
            ("user", Some("username")),
            ("user_name", Some("username")),
            ("hostname", Some("host")),
            ("HOST", Some("host")),
            ("prot", Some("port")),
            ("apikey", Some("api_key")),
            ("database_url", Some("DATABASE_URL")),
            ("dsn", Some("DATABASE_URL")),
            ("engin", Some("engine")),
            ("zzz", None),
            ("region", None),
            ("x", None),
        ];
        for (wanted, expected) in table {
            assert_eq!(first(wanted).as_deref(), *expected, "for `{wanted}`");
        }
    }

    #[test]
    fn exact_key_is_not_suggested() {
        assert!(did_you_mean("host", ["host"]).is_empty());
    }

    #[test]
    fn phrase_lists_up_to_three_best_first() {
        let p = did_you_mean_phrase("dbname", ["database", "db_name", "other"]).unwrap();
        assert_eq!(p, "did you mean `db_name` or `database`?");
        assert_eq!(did_you_mean_phrase("zzz", ["database"]), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("prot", "port"), 1);
        // Too far for any distance limit: the synonym table is what catches it.
        assert_eq!(edit_distance("dbname", "database"), 5);
    }
}
