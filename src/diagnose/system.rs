//! The narrow view of the computer that the environment gatherers use:
//! environment variables, small file reads, directory listings, bounded
//! commands and a device-open check. [`RealSystem`] asks the OS;
//! [`FakeSystem`] answers from tables so tests need no particular machine.
//!
//! Paths are plain strings in the target OS's own syntax (`C:\Program Files`
//! on Windows), so a Windows layout can be faked on any machine.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Most bytes [`System::read_file`] and command output return.
pub const MAX_READ: usize = 256 * 1024;
/// Most entries [`System::list_dir`] returns.
pub const MAX_DIR_ENTRIES: usize = 4096;

/// What the OS reports about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsInfo {
    /// `std::env::consts::OS` of the running build (`linux`, `windows`, `macos`, …).
    pub target_os: String,
    /// Distribution or product name (`Ubuntu`, `Windows`, `Darwin`).
    pub name: Option<String>,
    /// Version (`24.04`, `11 (26100)`, `15.1`).
    pub version: Option<String>,
    /// Long form (`Linux (Ubuntu 24.04)`, `macOS 15.1 Sequoia`).
    pub long_version: Option<String>,
    /// CPU architecture (`x86_64`, `arm64`).
    pub arch: Option<String>,
}

/// Result of a finished command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// Exit code (None when killed by a signal or the timeout).
    pub status: Option<i32>,
    /// Standard output, lossily decoded, at most [`MAX_READ`] bytes.
    pub stdout: String,
    /// Whether the command was stopped because it ran past its timeout.
    pub timed_out: bool,
}

/// Whether the current user may open a device for reading and writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenCheck {
    /// Opened (and closed again).
    Allowed,
    /// Refused: permission denied.
    Denied,
    /// Failed for another reason (busy, gone).
    Failed,
}

/// The computer as the gatherers see it.
pub trait System {
    /// Facts the OS reports about itself.
    fn os_info(&self) -> OsInfo;
    /// An environment variable, if set and valid Unicode.
    fn env_var(&self, name: &str) -> Option<String>;
    /// At most `max` bytes of a file; None if it cannot be read.
    fn read_bytes(&self, path: &str, max: usize) -> Option<Vec<u8>>;
    /// At most `max` bytes of a file as text (lossy); None if it cannot be read.
    fn read_file(&self, path: &str, max: usize) -> Option<String> {
        self.read_bytes(path, max)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
    /// File names in a directory (not full paths), sorted; empty if unreadable.
    fn list_dir(&self, path: &str) -> Vec<String>;
    /// Whether a file or directory exists.
    fn exists(&self, path: &str) -> bool;
    /// Runs `program args…` with no input, waiting at most `timeout`; None if
    /// it could not be started.
    fn run(&self, program: &str, args: &[&str], timeout: Duration) -> Option<CommandOutput>;
    /// Tries to open a device node for reading and writing.
    fn can_open_rw(&self, path: &str) -> OpenCheck;
    /// Windows: whether this process's token is elevated (None elsewhere or
    /// when the token cannot be read).
    fn windows_elevated(&self) -> Option<bool> {
        None
    }
    /// Windows: a string value of a registry key (`HKLM\SOFTWARE\…`,
    /// `HKCU\…`); `name` "" is the key's default value. None elsewhere.
    fn registry_value(&self, _key: &str, _name: &str) -> Option<String> {
        None
    }
    /// Windows: the names of a registry key's subkeys, sorted; empty elsewhere.
    fn registry_subkeys(&self, _key: &str) -> Vec<String> {
        Vec::new()
    }
    /// Why the OS cannot list HID devices right now (None when it can).
    fn hid_list_error(&self) -> Option<String> {
        None
    }
}

/// The real computer.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealSystem;

impl System for RealSystem {
    fn os_info(&self) -> OsInfo {
        OsInfo {
            target_os: std::env::consts::OS.to_string(),
            name: sysinfo::System::name().ok(),
            version: sysinfo::System::os_version().ok(),
            long_version: sysinfo::System::long_os_version().ok(),
            arch: Some(sysinfo::System::cpu_arch()).filter(|a| !a.is_empty()),
        }
    }

    fn env_var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_bytes(&self, path: &str, max: usize) -> Option<Vec<u8>> {
        let f = std::fs::File::open(path).ok()?;
        let mut buf = Vec::new();
        f.take(max as u64).read_to_end(&mut buf).ok()?;
        Some(buf)
    }

    fn list_dir(&self, path: &str) -> Vec<String> {
        let Ok(rd) = std::fs::read_dir(path) else {
            return Vec::new();
        };
        let mut v: Vec<String> = rd
            .take(MAX_DIR_ENTRIES)
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort();
        v
    }

    fn exists(&self, path: &str) -> bool {
        std::path::Path::new(path).exists()
    }

    fn run(&self, program: &str, args: &[&str], timeout: Duration) -> Option<CommandOutput> {
        run_bounded(program, args, timeout)
    }

    fn can_open_rw(&self, path: &str) -> OpenCheck {
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
        {
            Ok(_) => OpenCheck::Allowed,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => OpenCheck::Denied,
            Err(_) => OpenCheck::Failed,
        }
    }

    #[cfg(windows)]
    fn windows_elevated(&self) -> Option<bool> {
        super::system_windows::token_elevated()
    }

    fn hid_list_error(&self) -> Option<String> {
        crate::transport::hid::enumerate()
            .err()
            .map(|e| e.to_string())
    }

    #[cfg(windows)]
    fn registry_value(&self, key: &str, name: &str) -> Option<String> {
        super::system_windows::registry_value(key, name)
    }

    #[cfg(windows)]
    fn registry_subkeys(&self, key: &str) -> Vec<String> {
        super::system_windows::registry_subkeys(key)
    }
}

/// Runs a command with stdin closed and stderr discarded, reading at most
/// [`MAX_READ`] bytes of stdout and killing it after `timeout`.
fn run_bounded(program: &str, args: &[&str], timeout: Duration) -> Option<CommandOutput> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.take(MAX_READ as u64).read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
    }
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Err(_) => break None,
        }
    };
    // A grandchild may still hold the pipe open: do not wait for it for long.
    let stdout = rx
        .recv_timeout(Duration::from_millis(200))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Some(CommandOutput {
        status,
        stdout,
        timed_out,
    })
}

/// A scripted computer for tests and what-if runs.
#[derive(Debug, Clone, Default)]
pub struct FakeSystem {
    /// Returned by [`System::os_info`].
    pub os: OsInfo,
    /// Environment variables.
    pub env: BTreeMap<String, String>,
    /// Files and their contents.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Directories that exist (files' parent directories exist implicitly).
    pub dirs: BTreeSet<String>,
    /// Commands (`program arg arg`) and what they print.
    pub commands: BTreeMap<String, CommandOutput>,
    /// Device nodes the user may not open.
    pub denied: BTreeSet<String>,
    /// Returned by [`System::windows_elevated`].
    pub elevated: Option<bool>,
    /// Registry keys (`HKLM\…`) and their string values (`""`: default value).
    pub registry: BTreeMap<String, BTreeMap<String, String>>,
    /// Returned by [`System::hid_list_error`].
    pub hid_list_error: Option<String>,
}

impl FakeSystem {
    /// An empty system whose build reports `target_os` (`linux`, `windows`, `macos`).
    pub fn new(target_os: &str) -> Self {
        FakeSystem {
            os: OsInfo {
                target_os: target_os.to_string(),
                ..OsInfo::default()
            },
            ..FakeSystem::default()
        }
    }

    fn sep(&self) -> char {
        if self.os.target_os == "windows" {
            '\\'
        } else {
            '/'
        }
    }

    /// Sets an environment variable.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    /// Adds a file (and, implicitly, its directories).
    pub fn with_file(mut self, path: &str, content: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.to_string(), content.into());
        self
    }

    /// Adds an empty directory.
    pub fn with_dir(mut self, path: &str) -> Self {
        self.dirs
            .insert(path.trim_end_matches(['/', '\\']).to_string());
        self
    }

    /// Makes `program args…` print `stdout` and exit with `status`.
    pub fn with_command(mut self, cmdline: &str, status: i32, stdout: &str) -> Self {
        self.commands.insert(
            cmdline.to_string(),
            CommandOutput {
                status: Some(status),
                stdout: stdout.to_string(),
                timed_out: false,
            },
        );
        self
    }

    /// Makes opening `path` fail with "permission denied".
    pub fn with_denied(mut self, path: &str) -> Self {
        self.denied.insert(path.to_string());
        self
    }

    /// Sets the process token's elevation.
    pub fn with_elevated(mut self, elevated: bool) -> Self {
        self.elevated = Some(elevated);
        self
    }

    /// Adds a registry string value (and, implicitly, its key).
    pub fn with_registry(mut self, key: &str, name: &str, value: &str) -> Self {
        self.registry
            .entry(key.to_string())
            .or_default()
            .insert(name.to_string(), value.to_string());
        self
    }

    fn all_dirs(&self) -> BTreeSet<String> {
        let sep = self.sep();
        let mut out = self.dirs.clone();
        for p in self.files.keys().chain(self.dirs.iter()) {
            let mut cur = p.as_str();
            while let Some(i) = cur.rfind(sep) {
                cur = &cur[..i];
                if cur.is_empty() {
                    break;
                }
                out.insert(cur.to_string());
            }
        }
        out
    }
}

impl System for FakeSystem {
    fn os_info(&self) -> OsInfo {
        self.os.clone()
    }

    fn windows_elevated(&self) -> Option<bool> {
        self.elevated
    }

    fn hid_list_error(&self) -> Option<String> {
        self.hid_list_error.clone()
    }

    fn registry_value(&self, key: &str, name: &str) -> Option<String> {
        let key = key.to_ascii_lowercase();
        self.registry
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == key)
            .and_then(|(_, values)| values.get(name).cloned())
    }

    fn registry_subkeys(&self, key: &str) -> Vec<String> {
        let prefix = format!("{}\\", key.trim_end_matches('\\').to_ascii_lowercase());
        let mut names: BTreeSet<String> = BTreeSet::new();
        for k in self.registry.keys() {
            if k.to_ascii_lowercase().starts_with(&prefix) {
                let rest = &k[prefix.len()..];
                if let Some(first) = rest.split('\\').next().filter(|f| !f.is_empty()) {
                    names.insert(first.to_string());
                }
            }
        }
        names.into_iter().collect()
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn read_bytes(&self, path: &str, max: usize) -> Option<Vec<u8>> {
        self.files
            .get(path)
            .map(|b| b.iter().take(max).copied().collect())
    }

    fn list_dir(&self, path: &str) -> Vec<String> {
        let sep = self.sep();
        let base = path.trim_end_matches(sep);
        let prefix = format!("{base}{sep}");
        let mut names: BTreeSet<String> = BTreeSet::new();
        for p in self.files.keys().chain(self.all_dirs().iter()) {
            if let Some(rest) = p.strip_prefix(&prefix)
                && !rest.is_empty()
            {
                let name = rest.split(sep).next().unwrap_or(rest);
                names.insert(name.to_string());
            }
        }
        names.into_iter().collect()
    }

    fn exists(&self, path: &str) -> bool {
        let p = path.trim_end_matches(['/', '\\']);
        self.files.contains_key(p) || self.all_dirs().contains(p)
    }

    fn run(&self, program: &str, args: &[&str], _timeout: Duration) -> Option<CommandOutput> {
        let mut line = program.to_string();
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        self.commands.get(&line).cloned()
    }

    fn can_open_rw(&self, path: &str) -> OpenCheck {
        if self.denied.contains(path) {
            OpenCheck::Denied
        } else if self.exists(path) {
            OpenCheck::Allowed
        } else {
            OpenCheck::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_lists_files_and_implied_directories() {
        let s = FakeSystem::new("linux")
            .with_file("/a/b/c.txt", "x")
            .with_dir("/a/d");
        assert_eq!(s.list_dir("/a"), vec!["b", "d"]);
        assert_eq!(s.list_dir("/a/b/"), vec!["c.txt"]);
        assert!(s.exists("/a/b"));
        assert!(!s.exists("/a/e"));
        assert_eq!(s.read_file("/a/b/c.txt", 10).as_deref(), Some("x"));
        let w = FakeSystem::new("windows").with_file("C:\\P\\x.exe", "");
        assert_eq!(w.list_dir("C:\\P"), vec!["x.exe"]);
        assert!(w.exists("C:\\P"));
    }

    #[test]
    fn real_reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'a'; 1000]).unwrap();
        let p = p.to_string_lossy().into_owned();
        assert_eq!(RealSystem.read_bytes(&p, 10).map(|b| b.len()), Some(10));
        assert!(RealSystem.read_bytes("/nonexistent/file", 10).is_none());
        assert_eq!(RealSystem.can_open_rw(&p), OpenCheck::Allowed);
    }

    #[cfg(unix)]
    #[test]
    fn real_commands_time_out() {
        let out = RealSystem
            .run("sleep", &["5"], Duration::from_millis(100))
            .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.status, None);
        let out = RealSystem
            .run("echo", &["hello"], Duration::from_secs(5))
            .unwrap();
        assert_eq!(out.stdout.trim(), "hello");
        assert_eq!(out.status, Some(0));
        assert!(
            RealSystem
                .run("/nonexistent/program", &[], Duration::from_secs(1))
                .is_none()
        );
    }
}
