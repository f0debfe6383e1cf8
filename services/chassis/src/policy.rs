//! The policy: which RPCs each identity may call, and for which branches and procedures. Deny by
//! default. Read from a YAML file and reloaded when the file changes, so granting or withdrawing an
//! agency needs no restart.
//!
//! ```yaml
//! identities:
//!   agency/so-tu-phap:
//!     rpcs: ["motcua.intake.v1.IntakeService/CreateDossier", "motcua.intake.v1.IntakeService/GetDossier"]
//!     branches: ["CN01"]          # optional: every branch when absent
//!     procedures: ["1.001193"]    # optional: every procedure when absent
//!   service/receipt:
//!     rpcs: ["motcua.signing.v1.SigningService/*"]
//! ```

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use serde::Deserialize;

/// How often the policy file is checked for changes.
const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// What one identity is granted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// RPCs as `package.Service/Method`, `package.Service/*` or `*`.
    pub rpcs: Vec<String>,
    /// Branches it may act for; empty means every branch.
    #[serde(default)]
    pub branches: Vec<String>,
    /// Procedures whose dossiers it may read besides its own; empty means every procedure.
    #[serde(default)]
    pub procedures: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    identities: BTreeMap<String, Grant>,
}

/// A policy in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    grants: BTreeMap<String, Grant>,
    allow_everyone: bool,
}

impl Policy {
    /// The development policy: every identity may call everything. Only for the development mode.
    pub fn allow_everyone() -> Self {
        Self { grants: BTreeMap::new(), allow_everyone: true }
    }

    /// Parses a policy file's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: PolicyFile =
            serde_yaml::from_str(text).map_err(|error| format!("the policy file is not valid: {error}"))?;
        Ok(Self { grants: file.identities, allow_everyone: false })
    }

    /// What `identity` may do with `rpc` (`package.Service/Method`): `None` when denied, else its
    /// branch and procedure restrictions.
    pub fn grant_for(&self, identity: &str, rpc: &str) -> Option<Grant> {
        if self.allow_everyone {
            return Some(Grant::default());
        }
        let grant = self.grants.get(identity)?;
        grant.rpcs.iter().any(|pattern| matches(pattern, rpc)).then(|| grant.clone())
    }
}

fn matches(pattern: &str, rpc: &str) -> bool {
    match pattern.strip_suffix("/*") {
        _ if pattern == "*" => true,
        Some(service) => rpc.split_once('/').is_some_and(|(rpc_service, _)| rpc_service == service),
        None => pattern == rpc,
    }
}

/// The policy in force, shared by every request, replaced when its file changes.
#[derive(Clone)]
pub struct PolicyStore {
    current: Arc<RwLock<Arc<Policy>>>,
}

impl PolicyStore {
    /// A store holding `policy` for good.
    pub fn fixed(policy: Policy) -> Self {
        Self { current: Arc::new(RwLock::new(Arc::new(policy))) }
    }

    /// Loads `path` and watches it: a changed file is loaded again; a file that no longer parses is
    /// reported and the policy in force stays.
    pub fn watch(path: PathBuf) -> Result<Self, String> {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("cannot read the policy file {}: {error}", path.display()))?;
        let store = Self::fixed(Policy::parse(&text)?);
        let weak = Arc::downgrade(&store.current);
        tokio::spawn(async move {
            let mut seen = modified(&path);
            loop {
                tokio::time::sleep(RELOAD_INTERVAL).await;
                let Some(current) = weak.upgrade() else { return };
                let now = modified(&path);
                if now == seen {
                    continue;
                }
                seen = now;
                match std::fs::read_to_string(&path)
                    .map_err(|error| error.to_string())
                    .and_then(|text| Policy::parse(&text))
                {
                    Ok(policy) => {
                        if let Ok(mut slot) = current.write() {
                            *slot = Arc::new(policy);
                        }
                        tracing::info!(path = %path.display(), "policy reloaded");
                    }
                    Err(error) => {
                        tracing::error!(path = %path.display(), %error, "policy file changed but is not valid; keeping the policy in force")
                    }
                }
            }
        });
        Ok(store)
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.current.read().map(|policy| policy.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|metadata| metadata.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "
identities:
  agency/so-tu-phap:
    rpcs: [\"motcua.intake.v1.IntakeService/GetDossier\", \"motcua.receipt.v1.ReceiptService/*\"]
    procedures: [\"1.001193\"]
  service/receipt:
    rpcs: [\"*\"]
";

    #[test]
    fn deny_by_default_and_grant_what_is_listed() {
        let policy = Policy::parse(POLICY).expect("valid policy");
        assert!(policy.grant_for("agency/so-tu-phap", "motcua.intake.v1.IntakeService/GetDossier").is_some());
        assert!(policy.grant_for("agency/so-tu-phap", "motcua.receipt.v1.ReceiptService/LookupReceipt").is_some());
        assert!(policy.grant_for("agency/so-tu-phap", "motcua.intake.v1.IntakeService/ListDossiers").is_none());
        assert!(policy.grant_for("agency/unknown", "motcua.intake.v1.IntakeService/GetDossier").is_none());
        assert!(policy.grant_for("service/receipt", "motcua.signing.v1.SigningService/Sign").is_some());
        let grant =
            policy.grant_for("agency/so-tu-phap", "motcua.intake.v1.IntakeService/GetDossier").expect("granted");
        assert_eq!(grant.procedures, vec!["1.001193".to_owned()]);
    }

    #[test]
    fn unknown_keys_are_refused_rather_than_ignored() {
        assert!(Policy::parse("identities:\n  agency/x:\n    rpc: [\"*\"]\n").is_err());
    }
}
