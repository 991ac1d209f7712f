//! The store's Lua scripts: each lives in `src/store/lua/<name>.lua`, compiled into the binary
//! and hashed once. A script's first lines name its KEYS and ARGV; the aggregate that owns it
//! has a builder with one named field per key and argument, which pushes them in exactly that
//! order, so no call site counts positions. A script Redis does not know yet is loaded on its
//! first `NOSCRIPT` (redis-rs does that), which costs one extra round trip once per server.

use std::sync::LazyLock;

use redis::{FromRedisValue, Script, ScriptInvocation, ToRedisArgs};

/// One script: its name (the file's) and its source, hashed on first use.
pub(super) struct Lua {
    /// The file name without `.lua`.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    name: &'static str,
    /// The source, header included.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
    source: &'static str,
    script: Script,
}

impl Lua {
    fn new(name: &'static str, source: &'static str) -> Self {
        Self {
            name,
            source,
            script: Script::new(source),
        }
    }

    /// An empty call of this script, for a builder to fill.
    pub(super) fn call(&'static self) -> Call {
        Call {
            inv: self.script.prepare_invoke(),
            keys: 0,
            args: 0,
        }
    }
}

/// Declares `static NAME: LazyLock<Lua>` for `src/store/lua/<file>.lua`.
macro_rules! lua {
    ($name:ident, $file:literal) => {
        pub(super) static $name: LazyLock<Lua> =
            LazyLock::new(|| Lua::new($file, include_str!(concat!("lua/", $file, ".lua"))));
    };
}

lua!(COMMIT, "commit");
lua!(TICK, "tick");
lua!(TRANSITION, "transition");
lua!(APPEND_EVENT, "append_event");
lua!(SLA_TAKE, "sla_take");
lua!(WEEKLY_DONE, "weekly_done");
lua!(WEEKLY_RELEASE, "weekly_release");
lua!(FORWARD_DELIVERED, "forward_delivered");
lua!(FORWARD_DEAD, "forward_dead");
lua!(AUDIT_APPEND, "audit_append");
lua!(SUMMARY_LIST, "summary_list");
lua!(SUMMARY_TAKE, "summary_take");
lua!(INBOX_DEAD, "inbox_dead");
lua!(INBOX_REPLAY, "inbox_replay");
lua!(PURGE, "purge");
lua!(RESEAL, "reseal");

/// Every script, for the tests that load them and check their headers.
#[cfg(test)]
pub(super) fn all() -> [&'static LazyLock<Lua>; 16] {
    [
        &COMMIT,
        &TICK,
        &TRANSITION,
        &APPEND_EVENT,
        &SLA_TAKE,
        &WEEKLY_DONE,
        &WEEKLY_RELEASE,
        &FORWARD_DELIVERED,
        &FORWARD_DEAD,
        &AUDIT_APPEND,
        &SUMMARY_LIST,
        &SUMMARY_TAKE,
        &INBOX_DEAD,
        &INBOX_REPLAY,
        &PURGE,
        &RESEAL,
    ]
}

/// Keys and arguments of one script call, counted as they are pushed (the tests compare the
/// counts with the script's header).
pub(super) struct Call {
    inv: ScriptInvocation<'static>,
    keys: usize,
    args: usize,
}

impl Call {
    /// Pushes the next key (`KEYS[n]`).
    pub(super) fn key(&mut self, key: impl ToRedisArgs) -> &mut Self {
        self.keys += key.num_of_args();
        self.inv.key(key);
        self
    }

    /// Pushes the next argument (`ARGV[n]`).
    pub(super) fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        self.args += arg.num_of_args();
        self.inv.arg(arg);
        self
    }

    /// Runs the script (`EVALSHA`, and `SCRIPT LOAD` once when Redis does not know it).
    pub(super) async fn invoke<T: FromRedisValue>(
        &self,
        conn: &mut impl redis::aio::ConnectionLike,
    ) -> redis::RedisResult<T> {
        self.inv.invoke_async(conn).await
    }

    /// (keys, args) pushed so far.
    #[cfg(test)]
    pub(super) fn counts(&self) -> (usize, usize) {
        (self.keys, self.args)
    }
}

#[cfg(test)]
pub(super) mod tests {
    //! Every script loads into a real redis-server, and every builder pushes what its
    //! script's header declares.

    use std::net::TcpListener;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use super::*;

    /// What a script's header declares: its KEYS and ARGV names, and whether ARGV ends with
    /// a variadic tail (`name...`).
    #[derive(Debug)]
    pub(in crate::store) struct Header {
        pub keys: usize,
        pub args: usize,
        pub variadic: bool,
    }

    /// Reads the `-- KEYS:` and `-- ARGV:` lines of a script.
    pub(in crate::store) fn header(lua: &Lua) -> Header {
        let names = |tag: &str| -> Vec<String> {
            lua.source
                .lines()
                .take_while(|l| l.starts_with("--"))
                .find_map(|l| l.strip_prefix(&format!("-- {tag}:")))
                .unwrap_or_else(|| panic!("{}.lua: no `-- {tag}:` line", lua.name))
                .split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty() && n != "-")
                .collect()
        };
        let keys = names("KEYS");
        let args = names("ARGV");
        let variadic = args.last().is_some_and(|a| a.ends_with("..."));
        Header {
            keys: keys.len(),
            args: args.len() - usize::from(variadic),
            variadic,
        }
    }

    /// Checks a builder's call against its script's header; `extra` is the number of
    /// variadic arguments the call was given.
    pub(in crate::store) fn assert_matches(lua: &Lua, call: &Call, extra: usize) {
        let h = header(lua);
        assert!(
            extra == 0 || h.variadic,
            "{}.lua takes no variadic tail",
            lua.name
        );
        assert_eq!(
            call.counts(),
            (h.keys, h.args + extra),
            "{}.lua: (keys, args) pushed by its builder vs its header",
            lua.name
        );
    }

    /// A redis-server on a free loopback port, killed on drop.
    struct Server(Child, u16);

    impl Server {
        fn start() -> Self {
            for _ in 0..5 {
                let port = TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .expect("a free port")
                    .port();
                let mut child = Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("redis-server must be installed");
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    if child.try_wait().ok().flatten().is_some() {
                        break; // The port was taken meanwhile: try another.
                    }
                    if Self::connect(port).is_some() {
                        return Self(child, port);
                    }
                    assert!(Instant::now() < deadline, "redis-server did not start");
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            panic!("redis-server did not start on any port");
        }

        fn connect(port: u16) -> Option<redis::Connection> {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).ok()?;
            let mut conn = client.get_connection().ok()?;
            redis::cmd("PING").query::<String>(&mut conn).ok()?;
            Some(conn)
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn every_script_loads_into_redis_under_its_hash() {
        let server = Server::start();
        let mut conn = Server::connect(server.1).expect("a connection");
        for lua in all() {
            let hash = lua
                .script
                .load(&mut conn)
                .unwrap_or_else(|e| panic!("{}.lua does not load: {e}", lua.name));
            assert_eq!(hash, lua.script.get_hash(), "{}.lua", lua.name);
        }
    }

    /// The highest `KEYS[n]` or `ARGV[n]` (with a literal n) a script's body reads.
    fn highest(lua: &Lua, table: &str) -> usize {
        let re = regex::Regex::new(&format!(r"{table}\[(\d+)\]")).expect("a valid pattern");
        re.captures_iter(lua.source)
            .filter_map(|c| c[1].parse().ok())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn every_script_header_names_the_keys_and_args_its_body_reads() {
        for lua in all() {
            let h = header(lua);
            assert!(
                lua.source.starts_with("--"),
                "{}.lua starts with its header",
                lua.name
            );
            assert_eq!(h.keys, highest(lua, "KEYS"), "{}.lua: KEYS", lua.name);
            // A variadic tail is read with computed indexes, after the named ones.
            assert_eq!(h.args, highest(lua, "ARGV"), "{}.lua: ARGV", lua.name);
        }
    }
}
