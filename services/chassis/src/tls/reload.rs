//! Reloading from disk: a configuration built from the TLS files and rebuilt by a background task
//! whenever they change into a set that is valid; a set that is not is logged and the one in force
//! stays.

use std::{
    path::Path,
    sync::{Arc, RwLock},
    time::Duration,
};

use super::TlsError;
use crate::config::TlsFiles;

/// A configuration built from the TLS files, rebuilt by a background task when they change.
pub(super) struct Reloading<T> {
    current: RwLock<Arc<T>>,
}

/// How a side (server or client) builds its configuration from the files.
pub(super) type Build<T> = fn(&TlsFiles, &Contents) -> Result<T, TlsError>;

impl<T: Send + Sync + 'static> Reloading<T> {
    /// Loads the files, then checks them every `interval` until the last holder is dropped.
    pub(super) fn watch(
        files: TlsFiles,
        interval: Duration,
        side: &'static str,
        build: Build<T>,
    ) -> Result<Arc<Self>, TlsError> {
        let (reloading, mut seen) = Self::load(&files, build)?;
        let reloading = Arc::new(reloading);
        let weak = Arc::downgrade(&reloading);
        tokio::spawn(async move {
            let mut unreadable = false;
            loop {
                tokio::time::sleep(interval).await;
                let Some(reloading) = weak.upgrade() else { return };
                let outcome = reloading.check(&files, &mut seen, build);
                match &outcome {
                    Ok(false) => {}
                    Ok(true) => tracing::info!(side, cert = %files.cert.display(), "TLS configuration reloaded"),
                    // Reported once, not at every check while a rotation is half-way.
                    Err(TlsError::Read { .. }) if unreadable => {}
                    Err(error @ TlsError::Read { .. }) => {
                        tracing::warn!(side, %error, "TLS files unreadable; keeping the configuration in force")
                    }
                    Err(error) => tracing::error!(
                        side,
                        %error,
                        "TLS files changed but are not valid; keeping the configuration in force"
                    ),
                }
                unreadable = matches!(outcome, Err(TlsError::Read { .. }));
            }
        });
        Ok(reloading)
    }
}

impl<T> Reloading<T> {
    /// The configuration the files make now, and what they held.
    pub(super) fn load(files: &TlsFiles, build: Build<T>) -> Result<(Self, Contents), TlsError> {
        let contents = Contents::read(files)?;
        let config = build(files, &contents)?;
        Ok((Self { current: RwLock::new(Arc::new(config)) }, contents))
    }

    /// Reads the files and, when they differ from `seen`, rebuilds: `Ok(true)` when the new
    /// configuration is in force, `Ok(false)` when nothing changed, an error when the files cannot be
    /// read or do not make a configuration (the one in force stays). A set that failed is not tried
    /// again until a file changes once more.
    pub(super) fn check(&self, files: &TlsFiles, seen: &mut Contents, build: Build<T>) -> Result<bool, TlsError> {
        let contents = Contents::read(files)?;
        if contents == *seen {
            return Ok(false);
        }
        let built = build(files, &contents);
        *seen = contents;
        let config = Arc::new(built?);
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = config;
        Ok(true)
    }

    /// The configuration in force.
    pub(super) fn get(&self) -> Arc<T> {
        self.current.read().map(|current| current.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

/// The bytes of the TLS files, as read in one check.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Contents {
    pub(super) cert: Vec<u8>,
    pub(super) key: Vec<u8>,
    pub(super) client_ca: Vec<u8>,
    pub(super) client_crl: Option<Vec<u8>>,
}

impl Contents {
    /// Reads every file of `files`.
    pub(super) fn read(files: &TlsFiles) -> Result<Self, TlsError> {
        let read = |path: &Path| std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source });
        Ok(Self {
            cert: read(&files.cert)?,
            key: read(&files.key)?,
            client_ca: read(&files.client_ca)?,
            client_crl: files.client_crl.as_deref().map(read).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{fixtures::files, server::server_config};

    #[test]
    fn a_changed_file_that_does_not_parse_leaves_the_configuration_in_force_until_a_valid_one() {
        let (_folder, files, _) = files("reload");
        let (reloading, mut seen) = Reloading::load(&files, server_config).expect("valid files");
        assert!(!reloading.check(&files, &mut seen, server_config).expect("readable"), "nothing changed");
        let before = reloading.get();
        let valid_cert = std::fs::read(&files.cert).expect("read");
        std::fs::write(&files.cert, "not a certificate").expect("write");
        assert!(matches!(reloading.check(&files, &mut seen, server_config), Err(TlsError::Pem { .. })));
        assert!(Arc::ptr_eq(&before, &reloading.get()), "the broken file is not applied");
        assert!(!reloading.check(&files, &mut seen, server_config).expect("readable"), "reported once");
        std::fs::remove_file(&files.cert).expect("remove");
        assert!(matches!(reloading.check(&files, &mut seen, server_config), Err(TlsError::Read { .. })));
        std::fs::write(&files.cert, valid_cert).expect("write");
        assert!(reloading.check(&files, &mut seen, server_config).expect("valid again"));
        assert!(!Arc::ptr_eq(&before, &reloading.get()), "the valid files are in force");
    }
}
