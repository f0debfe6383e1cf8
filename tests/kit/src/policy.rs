//! A policy file written for one test, in a folder of its own that goes with it.

use std::path::{Path, PathBuf};

/// A policy file on disk; its folder is removed when it is dropped.
pub struct PolicyFile {
    folder: PathBuf,
    path: PathBuf,
}

impl PolicyFile {
    /// Writes `yaml` to a new policy file.
    pub fn write(yaml: &str) -> Self {
        let folder = std::env::temp_dir().join(format!("motcua-policy-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&folder).expect("a folder for the policy");
        let path = folder.join("policy.yaml");
        std::fs::write(&path, yaml).expect("the policy written");
        Self { folder, path }
    }

    /// Where the file is, for `ServiceConfig::policy_file`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PolicyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
