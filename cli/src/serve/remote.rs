//! `--listen` beyond loopback: refused without `--allow-remote`; with it, the published key (which
//! anyone can read in this repository) gives way to a secret key made for the data directory, and
//! the console asks for a login token.
//!
//! The key and token are made at the first such start and kept in the data directory
//! ([`DataDir::remote_key_file`], mode 0600), so scripts and browsers keep working across restarts;
//! deleting the file makes new ones.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use imagegen_local::DataDir;
use imagegen_local::LocalError;
use imagegen_local::config::AccessKey;
use serde_json::{Value, json};

use crate::error::CliError;

/// What an endpoint reachable from other machines uses instead of the published key.
#[derive(Debug, Clone)]
pub struct Remote {
    pub key: AccessKey,
    /// The console's login token.
    pub console_login: String,
}

/// `listen` is loopback, or `--allow-remote` was given.
pub fn check_listen(listen: SocketAddr, allow_remote: bool) -> Result<(), CliError> {
    if listen.ip().is_loopback() || allow_remote {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "--listen {listen} would let other machines reach this endpoint, which is signed with a \
         published key: give --allow-remote too to use a secret key made for this data directory \
         instead, or listen on 127.0.0.1."
    )))
}

/// The data directory's key and login token, made now if it has none.
pub fn key_of(data_dir: &Path) -> Result<Remote, CliError> {
    let data = DataDir::open(data_dir)?;
    let path = data.remote_key_file();
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).ok_or_else(|| {
            CliError::Usage(format!(
                "{} is not a key file imagegen serve wrote; delete it to have a new key made.",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(source) => Err(io_error("reading", &path, source)),
    }
}

fn parse(text: &str) -> Option<Remote> {
    let value: Value = serde_json::from_str(text).ok()?;
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Some(Remote {
        key: AccessKey {
            id: field("accessKeyId")?,
            secret: field("secretAccessKey")?,
        },
        console_login: field("consoleLogin")?,
    })
}

/// Random values from the operating system (uuid v4: 122 random bits each).
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn create(path: &Path) -> Result<Remote, CliError> {
    let remote = Remote {
        key: AccessKey {
            id: format!("IMAGEGEN{}", &random_hex()[..12].to_ascii_uppercase()),
            secret: format!("{}{}", random_hex(), random_hex()),
        },
        console_login: random_hex(),
    };
    let text = json!({
        "accessKeyId": remote.key.id,
        "secretAccessKey": remote.key.secret,
        "consoleLogin": remote.console_login,
    })
    .to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Made readable by its owner only from the start, never widened and narrowed afterwards.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(path).and_then(|mut file| {
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
    });
    match written {
        Ok(()) => Ok(remote),
        Err(source) => Err(io_error("writing", path, source)),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> CliError {
    LocalError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_allow_remote() {
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(check_listen(addr("127.0.0.1:4566"), false).is_ok());
        assert!(check_listen(addr("[::1]:4566"), false).is_ok());
        assert!(check_listen(addr("0.0.0.0:4566"), true).is_ok());
        let CliError::Usage(why) = check_listen(addr("0.0.0.0:4566"), false).unwrap_err() else {
            panic!("a usage error");
        };
        assert!(why.contains("--allow-remote"), "{why}");
    }

    #[test]
    fn the_key_is_made_once_per_data_directory_and_private() {
        let dir = std::env::temp_dir().join(format!("imagegen-remote-key-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = key_of(&dir).unwrap();
        let again = key_of(&dir).unwrap();
        assert_eq!(first.key, again.key);
        assert_eq!(first.console_login, again.console_login);
        assert_ne!(first.key, AccessKey::published());
        assert_eq!(first.key.secret.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = DataDir::open(&dir).unwrap().remote_key_file();
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
