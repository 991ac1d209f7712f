//! What a Redis error says about Redis itself: out of memory (`maxmemory` reached under the
//! `noeviction` policy, so every write is refused), unreachable (the connection is refused,
//! dropped or times out), still loading its data after a restart, or anything else. The
//! receiving edge, `/readyz` and `/metrics` name the reason with it.

use redis::{ErrorKind, RedisError};

/// Why Redis does not take writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// `OOM command not allowed when used memory > 'maxmemory'`.
    OutOfMemory,
    /// No connection, or no answer in time.
    Unreachable,
    /// Restarted and still reading its data (`LOADING`).
    Loading,
    /// Any other error (a replica that is read-only, a script error, …).
    Other,
}

impl Trouble {
    /// Classifies an error, including each command's error inside a refused transaction.
    pub fn of(e: &RedisError) -> Self {
        let mut codes: Vec<String> = e.code().map(str::to_owned).into_iter().collect();
        if let Some(each) = e.clone().into_server_errors() {
            codes.extend(each.iter().map(|(_, err)| err.code().to_owned()));
        }
        if codes.iter().any(|c| c == "OOM") {
            return Self::OutOfMemory;
        }
        let loading = codes.iter().any(|c| c == "LOADING");
        if loading {
            Self::Loading
        } else if e.kind() == ErrorKind::Io
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            Self::Unreachable
        } else {
            Self::Other
        }
    }

    /// The metric label: `out_of_memory`, `unreachable`, `loading`, `other`.
    pub fn label(self) -> &'static str {
        match self {
            Self::OutOfMemory => "out_of_memory",
            Self::Unreachable => "unreachable",
            Self::Loading => "loading",
            Self::Other => "other",
        }
    }

    /// What `/readyz` says: `redis: out of memory`, `redis: unreachable`, ….
    pub fn reason(self) -> &'static str {
        match self {
            Self::OutOfMemory => "redis: out of memory",
            Self::Unreachable => "redis: unreachable",
            Self::Loading => "redis: loading its data",
            Self::Other => "redis: error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_named_by_what_they_say_about_redis() {
        let oom = redis::make_extension_error(
            "OOM".into(),
            Some("command not allowed when used memory > 'maxmemory'.".into()),
        );
        assert_eq!(Trouble::of(&oom), Trouble::OutOfMemory);
        let refused = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(Trouble::of(&refused), Trouble::Unreachable);
        let timeout = RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert_eq!(Trouble::of(&timeout), Trouble::Unreachable);
        let other = redis::make_extension_error("WRONGTYPE".into(), None);
        assert_eq!(Trouble::of(&other), Trouble::Other);
        assert_eq!(Trouble::OutOfMemory.reason(), "redis: out of memory");
        assert_eq!(Trouble::Unreachable.label(), "unreachable");
    }
}
